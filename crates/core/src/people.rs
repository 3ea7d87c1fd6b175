//! The people who use refshare (issue 8): partner users, client users and operators, each
//! with a role and a status, and what each role may do ([`PartnerRole::may`],
//! [`OperatorRole::may_change`]). Sign-in and sessions live in the app.

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

/// Something a partner user may or may not do at its partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartnerPermission {
    /// See the partner's clients, cases, earnings and statements.
    Read,
    /// Invite, remove and change the partner's users.
    ManageTeam,
    /// Create and revoke the partner's API keys.
    ManageKeys,
    /// Create, change and delete the partner's webhooks.
    ManageWebhooks,
    /// Raise a dispute on one of the partner's cases (SPEC §7).
    FileDisputes,
    /// Change the partner's settings (the branding of its hosted pages).
    ManageSettings,
}

impl PartnerPermission {
    /// What it allows, for messages: "may not …".
    pub fn action(self) -> &'static str {
        match self {
            PartnerPermission::Read => "read the partner's data",
            PartnerPermission::ManageTeam => "manage the team",
            PartnerPermission::ManageKeys => "manage API keys",
            PartnerPermission::ManageWebhooks => "manage webhooks",
            PartnerPermission::FileDisputes => "raise disputes",
            PartnerPermission::ManageSettings => "change the partner's settings",
        }
    }
}

impl PartnerRole {
    /// Whether a user with this role may do `p`: an `admin` everything, a `member` only
    /// [`PartnerPermission::Read`] (a dispute is a change, so members read disputes but
    /// do not raise them).
    pub fn may(self, p: PartnerPermission) -> bool {
        match (self, p) {
            (PartnerRole::Admin, _) => true,
            (PartnerRole::Member, PartnerPermission::Read) => true,
            (
                PartnerRole::Member,
                PartnerPermission::ManageTeam
                | PartnerPermission::ManageKeys
                | PartnerPermission::ManageWebhooks
                | PartnerPermission::FileDisputes
                | PartnerPermission::ManageSettings,
            ) => false,
        }
    }
}

impl OperatorRole {
    /// Whether an operator with this role may change anything (an `admin`); a `viewer`
    /// reads everything and changes nothing.
    pub fn may_change(self) -> bool {
        match self {
            OperatorRole::Admin => true,
            OperatorRole::Viewer => false,
        }
    }
}

impl PersonStatus {
    /// The status an account is set to when the operator asks for `wanted`: `disabled`
    /// disables; `active` re-enables a disabled account as `active` if it ever signed in,
    /// else `invited`, and leaves an enabled one as it is. `None` for a status that
    /// cannot be asked for (`invited`: only the absence of a sign-in makes it).
    pub fn after_request(self, wanted: PersonStatus, ever_signed_in: bool) -> Option<PersonStatus> {
        match (wanted, self) {
            (PersonStatus::Invited, _) => None,
            (PersonStatus::Disabled, _) => Some(PersonStatus::Disabled),
            (PersonStatus::Active, PersonStatus::Disabled) if ever_signed_in => Some(PersonStatus::Active),
            (PersonStatus::Active, PersonStatus::Disabled) => Some(PersonStatus::Invited),
            (PersonStatus::Active, current) => Some(current),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partner_admin_may_do_everything_a_member_only_read() {
        let all = [
            PartnerPermission::Read,
            PartnerPermission::ManageTeam,
            PartnerPermission::ManageKeys,
            PartnerPermission::ManageWebhooks,
            PartnerPermission::FileDisputes,
        ];
        assert!(all.iter().all(|p| PartnerRole::Admin.may(*p)));
        assert!(PartnerRole::Member.may(PartnerPermission::Read));
        for p in &all[1..] {
            assert!(!PartnerRole::Member.may(*p), "member may not {p:?}");
        }
    }

    #[test]
    fn only_an_operator_admin_may_change() {
        assert!(OperatorRole::Admin.may_change());
        assert!(!OperatorRole::Viewer.may_change());
    }

    #[test]
    fn re_enabling_depends_on_a_past_sign_in() {
        use PersonStatus::*;
        assert_eq!(Active.after_request(Disabled, true), Some(Disabled));
        assert_eq!(Invited.after_request(Disabled, false), Some(Disabled));
        assert_eq!(Disabled.after_request(Active, true), Some(Active));
        assert_eq!(Disabled.after_request(Active, false), Some(Invited));
        assert_eq!(Invited.after_request(Active, false), Some(Invited), "enabling an enabled account changes nothing");
        assert_eq!(Active.after_request(Active, true), Some(Active));
        assert_eq!(Active.after_request(Invited, true), None, "`invited` cannot be asked for");
    }

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
