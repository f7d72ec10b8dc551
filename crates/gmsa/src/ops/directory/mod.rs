//! Directory operations over LDAP, a file each: `new-credspec` (what `New-CredentialSpec`
//! does, from any OS), `check-account` (the Active Directory half of the gMSA
//! troubleshooting guide) and `create-account` (what `New-ADServiceAccount` does for a gMSA).

mod check_account;
mod create_account;
mod new_credspec;

pub use crate::directory::ldif::LdapAdd;
pub use check_account::*;
pub use create_account::*;
pub use new_credspec::*;
