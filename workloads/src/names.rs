//! Named values of the command line and the reports: enums whose variants have one lower-case
//! name each, parsed case-insensitively with an error that lists the valid names.
//!
//! A base module: it imports nothing from the rest of the crate.

use std::fmt;

/// A name that is not one of an enum's values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{got}'; valid values: {}", valid.join(", "))]
pub struct UnknownName {
    /// What was being parsed ("engine", "workload", ...).
    pub what: &'static str,
    /// The text given.
    pub got: String,
    /// The valid names, in display order.
    pub valid: Vec<&'static str>,
}

/// Declares a `Copy` enum with one name per variant: `ALL`, `as_str`, `Display` and a
/// case-insensitive `FromStr` whose error is [`UnknownName`].
macro_rules! name_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used on the command line and in reports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::names::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
                    $crate::names::UnknownName {
                        what: $what,
                        got: s.to_string(),
                        valid: $name::ALL.iter().map(|v| v.as_str()).collect(),
                    }
                })
            }
        }
    };
}

pub(crate) use name_enum;

/// Joins names with ", " (for messages that list valid values).
pub(crate) fn list(names: impl IntoIterator<Item = impl fmt::Display>) -> String {
    names
        .into_iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
