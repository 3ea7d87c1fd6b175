//! Partners, their API keys, and collection partners with their countries.

use refshare_core::money::Bps;
use refshare_core::stage::InvoicingTriggerMode;
use refshare_store::{ApiKeyRecord, CollectionPartnerRecord, PartnerRecord, Store};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

fn api_key(p: &PartnerRecord, hash: &str, created_at: refshare_core::Instant) -> ApiKeyRecord {
    ApiKeyRecord {
        id: Uuid::new_v4(),
        partner_id: p.id,
        key_hash: hash.to_string(),
        key_prefix: hash[..4].to_string(),
        created_at,
        revoked_at: None,
    }
}

fn collection_partner(name: &str, countries: &[&str], created_at: refshare_core::Instant) -> CollectionPartnerRecord {
    CollectionPartnerRecord {
        id: Uuid::new_v4(),
        name: name.to_string(),
        success_fee_bps: Bps(1_500),
        platform_share_bps: Bps(4_000),
        countries: countries.iter().map(|c| c.to_string()).collect(),
        created_at,
    }
}

conformance!(partners_round_trip_and_update);
async fn partners_round_trip_and_update(store: Store) -> TestResult {
    let older = PartnerRecord {
        referral_fee_bps: Bps(1_250),
        approval_ttl_days: 30,
        invoicing_trigger_mode: InvoicingTriggerMode::ConfirmedPipeline,
        ..partner("Older", t(0))
    };
    let newer = partner("Newer", t(1));
    let mut tx = store.begin().await?;
    tx.insert_partner(&newer).await?;
    tx.insert_partner(&older).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner(older.id).await?, Some(older.clone()));
    assert_eq!(tx.partners().await?, vec![older.clone(), newer.clone()], "oldest first");
    assert_eq!(tx.partner(Uuid::new_v4()).await?, None);

    let updated = PartnerRecord {
        company_name: "Renamed".into(),
        contact_email: "new@older.example".into(),
        referral_fee_bps: Bps(10_000),
        approval_ttl_days: 1,
        invoicing_trigger_mode: InvoicingTriggerMode::PayWhenPaid,
        branding: json!({"logoUrl": null, "fontFamily": "Georgia, \"Times New Roman\""}),
        created_at: t(DAY), // not updatable
        ..older.clone()
    };
    tx.update_partner(&updated).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner(older.id).await?, Some(PartnerRecord { created_at: older.created_at, ..updated }));
    assert_eq!(tx.partner(newer.id).await?, Some(newer), "other partners untouched");
    Ok(())
}

conformance!(api_keys_lookup_and_revocation);
async fn api_keys_lookup_and_revocation(store: Store) -> TestResult {
    let p = partner("Keyholder", t(0));
    let other = partner("Other", t(0));
    let k1 = api_key(&p, "hash-one", t(SECOND));
    let k2 = api_key(&p, "hash-two", t(2 * SECOND));
    let k3 = api_key(&other, "hash-three", t(SECOND));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&other).await?;
    for k in [&k2, &k1, &k3] {
        tx.insert_api_key(k).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner_by_key_hash("hash-one").await?, Some(p.clone()));
    assert_eq!(tx.partner_by_key_hash("hash-three").await?, Some(other.clone()));
    assert_eq!(tx.partner_by_key_hash("HASH-ONE").await?, None, "hashes compare exactly");
    assert_eq!(tx.partner_by_key_hash("hash-unknown").await?, None);
    assert_eq!(tx.api_keys(p.id).await?, vec![k1.clone(), k2.clone()], "oldest first");

    assert!(!tx.revoke_api_key(other.id, k1.id, t(HOUR)).await?, "only the owner revokes");
    assert!(tx.revoke_api_key(p.id, k1.id, t(HOUR)).await?);
    assert!(!tx.revoke_api_key(p.id, k1.id, t(2 * HOUR)).await?, "already revoked");
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner_by_key_hash("hash-one").await?, None, "a revoked key authenticates nobody");
    assert_eq!(tx.partner_by_key_hash("hash-two").await?, Some(p.clone()));
    let revoked = ApiKeyRecord { revoked_at: Some(t(HOUR)), ..k1 };
    assert_eq!(tx.api_keys(p.id).await?, vec![revoked, k2]);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_api_key(&api_key(&other, "hash-two", t(DAY))).await);
    Ok(())
}

conformance!(collection_partners_and_coverage);
async fn collection_partners_and_coverage(store: Store) -> TestResult {
    let nordic = collection_partner("Nordic Recovery", &["SE", "DK"], t(0));
    let scandi = CollectionPartnerRecord {
        success_fee_bps: Bps(2_250),
        platform_share_bps: Bps(0),
        ..collection_partner("Scandi Legal", &["NO", "SE"], t(SECOND))
    };
    let idle = collection_partner("Idle", &[], t(2 * SECOND));
    let mut tx = store.begin().await?;
    for cp in [&scandi, &idle, &nordic] {
        tx.insert_collection_partner(cp).await?;
    }
    tx.commit().await?;

    let sorted = |cp: &CollectionPartnerRecord| {
        let mut cp = cp.clone();
        cp.countries.sort();
        cp
    };
    let mut tx = store.begin().await?;
    assert_eq!(tx.collection_partners().await?, vec![sorted(&nordic), sorted(&scandi), sorted(&idle)]);
    assert_eq!(tx.collection_partner_for("SE").await?.map(|cp| cp.id), Some(nordic.id), "the oldest covering one");
    assert_eq!(tx.collection_partner_for("DK").await?.map(|cp| cp.id), Some(nordic.id));
    assert_eq!(tx.collection_partner_for("NO").await?, Some(sorted(&scandi)));
    assert_eq!(tx.collection_partner_for("DE").await?, None);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_collection_partner(&collection_partner("Twice", &["FI", "FI"], t(DAY))).await);
    Ok(())
}
