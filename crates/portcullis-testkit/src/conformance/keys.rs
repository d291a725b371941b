//! Signing keys: initialisation and rotation.

use super::*;

/// Processes starting together on an empty store: exactly one `initialize_keys` stores its
/// pair, and the store holds one current and one next key.
pub async fn key_initialization_race_creates_one_set(store: &dyn Store) {
    let sets: Vec<(SigningKey, SigningKey)> = (0..6)
        .map(|n| {
            (
                key(&format!("current-{n}"), KeyState::Current),
                key(&format!("next-{n}"), KeyState::Next),
            )
        })
        .collect();
    let won = join_all(sets.iter().map(|(c, n)| store.initialize_keys(c, n)))
        .await
        .into_iter()
        .map(|r| r.expect("initialize"))
        .collect::<Vec<_>>();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let winner = won.iter().position(|w| *w).unwrap_or_default();
    let mut live = store.live_keys().await.expect("keys");
    live.sort_by_key(|k| k.state.as_str());
    assert_eq!(live, vec![sets[winner].0.clone(), sets[winner].1.clone()]);
    assert!(!store
        .initialize_keys(
            &key("late-c", KeyState::Current),
            &key("late-n", KeyState::Next)
        )
        .await
        .expect("initialize"));
}

/// Rotation moves next → current → previous → retired; imported keys keep their state, and a
/// second current or next key is refused.
pub async fn key_rotation_and_import(store: &dyn Store) {
    assert!(store
        .initialize_keys(&key("k1", KeyState::Current), &key("k2", KeyState::Next))
        .await
        .expect("initialize"));
    let states = |keys: Vec<SigningKey>| {
        let mut v: Vec<(String, KeyState, Option<i64>)> = keys
            .into_iter()
            .map(|k| (k.kid, k.state, k.retire_after))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    store
        .rotate_keys(&key("k3", KeyState::Next), NOW + 100, NOW)
        .await
        .expect("rotate");
    assert_eq!(
        states(store.live_keys().await.expect("keys")),
        [
            ("k1".into(), KeyState::Previous, Some(NOW + 100)),
            ("k2".into(), KeyState::Current, None),
            ("k3".into(), KeyState::Next, None)
        ]
    );
    store
        .rotate_keys(&key("k4", KeyState::Next), NOW + 300, NOW + 200)
        .await
        .expect("rotate");
    assert_eq!(
        states(store.live_keys().await.expect("keys")),
        [
            ("k2".into(), KeyState::Previous, Some(NOW + 300)),
            ("k3".into(), KeyState::Current, None),
            ("k4".into(), KeyState::Next, None)
        ],
        "k1, past its time, is retired"
    );
    assert!(is_conflict(
        store.insert_key(&key("k5", KeyState::Current)).await
    ));
    assert!(is_conflict(
        store.insert_key(&key("k6", KeyState::Next)).await
    ));
    let mut imported = key("k7", KeyState::Previous);
    imported.retire_after = Some(NOW + 50);
    store.insert_key(&imported).await.expect("import");
    let live = store.live_keys().await.expect("keys");
    assert_eq!(live.iter().find(|k| k.kid == "k7"), Some(&imported));
    assert_eq!(
        live.iter()
            .find(|k| k.kid == "k3")
            .map(|k| k.private_pkcs8.clone()),
        Some(key("k3", KeyState::Next).private_pkcs8),
        "the stored bytes come back unchanged"
    );
}
