//! The people who use refshare (issue 8): partner users, client users and operators, each
//! with a role and a status. Only the vocabulary lives here; sign-in comes later.

use std::fmt;

/// A partner user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartnerRole {
    /// Manages the partner's team, API keys and webhooks.
    Admin,
    Member,
}

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorRole {
    Admin,
    /// Reads everything, changes nothing.
    Viewer,
}

/// Where a person's account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonStatus {
    /// Created, never signed in.
    Invited,
    /// Signed in at least once.
    Active,
    /// May not sign in.
    Disabled,
}

macro_rules! words {
    ($ty:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $word),+ }
            }

            /// The value named exactly `s` (lower-case), if any.
            pub fn parse(s: &str) -> Option<$ty> {
                match s { $($word => Some($ty::$variant),)+ _ => None }
            }

            /// The accepted words, `a`, `b`: for messages.
            pub fn choices() -> String {
                $ty::ALL.iter().map(|v| format!("`{}`", v.as_str())).collect::<Vec<_>>().join(" or ")
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(PartnerRole { Admin => "admin", Member => "member" });
words!(OperatorRole { Admin => "admin", Viewer => "viewer" });
words!(PersonStatus { Invited => "invited", Active => "active", Disabled => "disabled" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_nothing_else_parses() {
        for r in PartnerRole::ALL {
            assert_eq!(PartnerRole::parse(r.as_str()), Some(*r));
        }
        for r in OperatorRole::ALL {
            assert_eq!(OperatorRole::parse(r.as_str()), Some(*r));
        }
        for s in PersonStatus::ALL {
            assert_eq!(PersonStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(PartnerRole::parse("Admin"), None);
        assert_eq!(OperatorRole::parse("member"), None);
        assert_eq!(PersonStatus::parse(""), None);
        assert_eq!(OperatorRole::choices(), "`admin` or `viewer`");
    }
}
