//! The one font every evidence picture uses: DejaVu Sans, embedded in the
//! binary and registered with plotters' ab_glyph text renderer. No system
//! font exists at run time, so every text style is built here.

use plotters::style::{
    register_font, FontDesc, FontFamily, FontStyle, IntoFont, RGBColor, TextStyle,
};
use std::sync::Once;

/// The family name the embedded font is registered under.
pub const FAMILY: &str = "rfsentry-sans";

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Register the embedded font (idempotent, cheap after the first call).
///
/// It is registered under [`FAMILY`] and also as `sans-serif`, plotters'
/// default family, so a style left at its default still finds a font.
pub fn ensure_registered() {
    REGISTER.call_once(|| {
        for family in [FAMILY, "sans-serif"] {
            for style in [FontStyle::Normal, FontStyle::Bold] {
                // The bytes are a valid TrueType font shipped with the crate;
                // a failure here would be a packaging error caught by the tests.
                if register_font(family, style, FONT_BYTES).is_err() {
                    tracing::error!(
                        "embedded font could not be registered: pictures will lack text"
                    );
                }
            }
        }
    });
}

/// A font of `size` pixels in the embedded family.
pub fn font(size: f64) -> FontDesc<'static> {
    ensure_registered();
    (FontFamily::Name(FAMILY), size).into_font()
}

/// A bold font of `size` pixels (DejaVu Sans has no bold face embedded, so
/// plotters falls back to the regular face; the size carries the emphasis).
pub fn bold(size: f64) -> FontDesc<'static> {
    ensure_registered();
    (FontFamily::Name(FAMILY), size, FontStyle::Bold).into_font()
}

/// A text style of `size` pixels in `colour`.
pub fn text(size: f64, colour: RGBColor) -> TextStyle<'static> {
    font(size).color(&colour)
}
