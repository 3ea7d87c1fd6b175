//! Clients, their users, onboarding, and the existing-client match of SPEC §4.3.

use refshare_store::{ClientRecord, SdcaSignature, Store};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

fn signature(signed_at: refshare_core::Instant) -> SdcaSignature {
    SdcaSignature {
        signer_name: "Karen Blixen".into(),
        signed_at,
        ip: "203.0.113.7".into(),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64)".into(),
        version: "SDCA-2024-01".into(),
        signer_user_id: Some(Uuid::from_u128(7)),
        verified_by: Some("code".into()),
    }
}

/// (country, registration number)
type Registration<'a> = (&'a str, &'a str);

fn ids(clients: &[ClientRecord]) -> Vec<Uuid> {
    clients.iter().map(|c| c.id).collect()
}

conformance!(clients_users_and_onboarding);
async fn clients_users_and_onboarding(store: Store) -> TestResult {
    let c = ClientRecord {
        registration_number: Some("DK-12345678".into()),
        support_email: Some("support@acme.example".into()),
        ..client("Acme ApS", t(0))
    };
    let colleague = user(&c, "colleague@acme.example", false);
    let owner = user(&c, "owner@acme.example", true);
    let bare = client("Bare", t(SECOND));
    let mut tx = store.begin().await?;
    tx.insert_client(&c, &[colleague.clone(), owner.clone()]).await?;
    tx.insert_client(&bare, &[]).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.client(c.id).await?, Some(c.clone()));
    assert_eq!(tx.client(bare.id).await?, Some(bare.clone()));
    assert_eq!(tx.client(Uuid::new_v4()).await?, None);
    assert_eq!(tx.client_users(c.id).await?, vec![owner, colleague], "onboarding user first");
    assert_eq!(tx.client_users(bare.id).await?, vec![]);

    assert!(tx.complete_onboarding(c.id, &signature(t(HOUR))).await?);
    assert!(!tx.complete_onboarding(c.id, &signature(t(2 * HOUR))).await?, "signed once only");
    tx.set_client_api_key(c.id, "client-key-hash").await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let signed = ClientRecord {
        onboarding_completed_at: Some(t(HOUR)),
        sdca: Some(signature(t(HOUR))),
        api_key_hash: Some("client-key-hash".into()),
        ..c.clone()
    };
    assert_eq!(tx.client(c.id).await?, Some(signed.clone()));
    assert_eq!(tx.client_by_key_hash("client-key-hash").await?, Some(signed));
    assert_eq!(tx.client_by_key_hash("other-hash").await?, None);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(tx.set_client_api_key(bare.id, "client-key-hash").await);
    Ok(())
}

conformance!(client_insert_keeps_the_sdca_signature,);
/// `ClientRecord` carries the SDCA signature, so inserting one must not silently drop it
/// (today only `complete_onboarding` writes the signer columns).
async fn client_insert_keeps_the_sdca_signature(store: Store) -> TestResult {
    let c = ClientRecord { onboarding_completed_at: Some(t(HOUR)), sdca: Some(signature(t(HOUR))), ..client("Signed", t(0)) };
    let mut tx = store.begin().await?;
    tx.insert_client(&c, &[]).await?;
    assert_eq!(tx.client(c.id).await?, Some(c));
    Ok(())
}

conformance!(matching_clients_by_email_and_registration);
async fn matching_clients_by_email_and_registration(store: Store) -> TestResult {
    let acme = ClientRecord {
        registration_number: Some("12345678".into()),
        support_email: Some("Billing@Acme.example".into()),
        ..client("Acme", t(0))
    };
    let beta = ClientRecord { country: "SE".into(), registration_number: Some("12345678".into()), ..client("Beta", t(SECOND)) };
    let gamma = ClientRecord { support_email: Some("ops@gamma.example".into()), ..client("Gamma", t(2 * SECOND)) };
    let mut tx = store.begin().await?;
    tx.insert_client(&gamma, &[user(&gamma, "ops@gamma.example", true)]).await?;
    tx.insert_client(&beta, &[user(&beta, "Jane.Doe@Beta.example", true)]).await?;
    tx.insert_client(&acme, &[user(&acme, "Owner@ACME.example", true), user(&acme, "clerk@acme.example", false)]).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let emails = |list: &[&str]| list.iter().map(|e| e.to_string()).collect::<Vec<_>>();
    #[rustfmt::skip]
    let cases: Vec<(Vec<String>, Option<Registration>, Vec<Uuid>)> = vec![
        (emails(&["billing@acme.example"]), None, vec![acme.id]),
        (emails(&["BILLING@ACME.EXAMPLE"]), None, vec![acme.id]),
        (emails(&["owner@acme.EXAMPLE"]), None, vec![acme.id]),
        (emails(&["CLERK@acme.example"]), None, vec![acme.id]),
        (emails(&["jane.doe@beta.example"]), None, vec![beta.id]),
        (emails(&["ops@gamma.example"]), None, vec![gamma.id]),
        (emails(&["acme.example", "owner@acme", "nobody@acme.example"]), None, vec![]),
        (vec![], Some(("DK", "12345678")), vec![acme.id]),
        (vec![], Some(("SE", "12345678")), vec![beta.id]),
        (vec![], Some(("NO", "12345678")), vec![]),
        (vec![], Some(("DK", "1234567")), vec![]),
        (emails(&["owner@acme.example", "billing@acme.example"]), Some(("DK", "12345678")), vec![acme.id]),
        (emails(&["ops@gamma.example", "jane.doe@beta.example"]), Some(("DK", "12345678")), vec![acme.id, beta.id, gamma.id]),
        (vec![], None, vec![]),
    ];
    for (emails, registration, expected) in cases {
        let found = tx.matching_clients(&emails, registration).await?;
        assert_eq!(ids(&found), expected, "emails {emails:?}, registration {registration:?}");
    }
    assert_eq!(tx.matching_clients(&emails(&["owner@acme.example"]), None).await?, vec![acme], "whole records");
    Ok(())
}

conformance!(matching_clients_folds_non_ascii_case,);
/// The e-mail match is case-insensitive on both backends for non-ASCII letters too.
async fn matching_clients_folds_non_ascii_case(store: Store) -> TestResult {
    let c = ClientRecord { support_email: Some("SØREN@Ærø.example".into()), ..client("Ærø Fisk", t(0)) };
    let mut tx = store.begin().await?;
    tx.insert_client(&c, &[user(&c, "ÅSE@ærø.example", true)]).await?;
    for email in ["søren@ærø.example", "åse@ærø.example", "ÅSE@ÆRØ.EXAMPLE"] {
        assert_eq!(ids(&tx.matching_clients(&[email.to_string()], None).await?), vec![c.id], "{email}");
    }
    Ok(())
}
