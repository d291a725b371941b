//! Auth0's paging: `page` (from 0), `per_page` (default 50, at most 100) and `include_totals`
//! (`{start, limit, length, total, <items>}` instead of a bare array); checkpoint paging with
//! `from` and `take` (`{<items>, next}`); and `fields` / `include_fields` projections.

use axum::{
    response::{IntoResponse, Response},
    Json,
};
use portcullis_store::Page;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::IntoParams;

use super::errors::ApiError;

pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 100;
/// The furthest into a list either kind of paging may start: past it, a request is refused
/// rather than asking the store to count its way there (and `from` plus `take` can never
/// overflow).
pub const MAX_OFFSET: u64 = 10_000_000;

/// Offset paging parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page index of the results, from 0.
    pub page: Option<u32>,
    /// Number of results per page: default 50, at most 100.
    pub per_page: Option<u32>,
    /// Return the results in an object with the total count (`start`, `limit`, `length`,
    /// `total`) rather than as a bare array.
    pub include_totals: Option<bool>,
}

/// Validated offset paging.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    pub page: u32,
    pub per_page: u32,
    pub include_totals: bool,
}

impl PageParams {
    pub fn paging(&self) -> Result<Paging, ApiError> {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if per_page > MAX_PER_PAGE {
            return Err(ApiError::invalid_query(format!(
                "Query validation error: 'per_page' must be at most {MAX_PER_PAGE}"
            )));
        }
        let page = self.page.unwrap_or(0);
        if u64::from(page) * u64::from(per_page.max(1)) > MAX_OFFSET {
            return Err(ApiError::invalid_query(
                "Query validation error: 'page' is too large",
            ));
        }
        Ok(Paging {
            page,
            per_page,
            include_totals: self.include_totals.unwrap_or(false),
        })
    }
}

impl Paging {
    pub fn store_page(self) -> Page {
        Page {
            page: self.page,
            per_page: self.per_page,
        }
    }

    pub fn offset(self) -> usize {
        usize::try_from(u64::from(self.page) * u64::from(self.per_page)).unwrap_or(usize::MAX)
    }

    /// This page of a complete list.
    pub fn slice<T>(self, all: Vec<T>) -> (Vec<T>, u64) {
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(self.offset())
            .take(self.per_page as usize)
            .collect();
        (items, total)
    }

    /// The answer: a bare array, or with `include_totals` the object keyed by `key`.
    pub fn respond(self, key: &str, items: Vec<Value>, total: u64) -> Response {
        if self.include_totals {
            Json(json!({
                "start": self.offset(),
                "limit": self.per_page,
                "length": items.len(),
                "total": total,
                key: items,
            }))
            .into_response()
        } else {
            Json(Value::Array(items)).into_response()
        }
    }
}

/// Checkpoint paging parameters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckpointParams {
    /// Where to start: the `next` value of the previous answer.
    pub from: Option<String>,
    /// Number of results to return: default 50, at most 100.
    pub take: Option<u32>,
}

/// Validated checkpoint paging.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint {
    pub offset: usize,
    pub take: u32,
}

impl CheckpointParams {
    /// Whether the caller asked for checkpoint paging.
    pub fn requested(&self) -> bool {
        self.from.is_some() || self.take.is_some()
    }

    pub fn checkpoint(&self) -> Result<Checkpoint, ApiError> {
        let take = self.take.unwrap_or(DEFAULT_PER_PAGE);
        if take == 0 || take > MAX_PER_PAGE {
            return Err(ApiError::invalid_query(format!(
                "Query validation error: 'take' must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        let offset = match self.from.as_deref().filter(|f| !f.is_empty()) {
            None => 0,
            Some(from) => from
                .parse::<usize>()
                .ok()
                .filter(|offset| *offset as u64 <= MAX_OFFSET)
                .ok_or_else(|| {
                    ApiError::invalid_query(
                        "Query validation error: 'from' is not a valid checkpoint",
                    )
                })?,
        };
        Ok(Checkpoint { offset, take })
    }
}

impl Checkpoint {
    /// The store page that starts at `offset` when `offset` is a multiple of `take`, else a
    /// first page long enough to contain this one (the caller skips `skip()` items).
    pub fn store_page(self) -> (Page, usize) {
        let take = self.take as usize;
        if (self.offset / take) * take == self.offset {
            let page = u32::try_from(self.offset / take).unwrap_or(u32::MAX);
            (
                Page {
                    page,
                    per_page: self.take,
                },
                0,
            )
        } else {
            let per_page = u32::try_from(self.offset + take).unwrap_or(u32::MAX);
            (Page { page: 0, per_page }, self.offset)
        }
    }

    /// This page of a complete list.
    pub fn slice<T>(self, all: Vec<T>) -> (Vec<T>, u64) {
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(self.offset)
            .take(self.take as usize)
            .collect();
        (items, total)
    }

    /// The checkpoint after this page of `returned` items out of `total`: `None` at the end.
    pub fn next(self, returned: usize, total: u64) -> Option<String> {
        let end = self.offset as u64 + returned as u64;
        (end < total).then(|| end.to_string())
    }

    /// `{<key>: [...], next}`; `next` only while more remain.
    pub fn respond(self, key: &str, items: Vec<Value>, total: u64) -> Response {
        let next = self.next(items.len(), total);
        let mut body = Map::new();
        body.insert(key.to_owned(), Value::Array(items));
        if let Some(next) = next {
            body.insert("next".into(), Value::String(next));
        }
        Json(Value::Object(body)).into_response()
    }
}

/// Which fields to return.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldsParams {
    /// Comma-separated list of fields to include or exclude (see `include_fields`).
    pub fields: Option<String>,
    /// Whether `fields` lists the fields to include (true, the default) or to exclude.
    pub include_fields: Option<bool>,
}

impl FieldsParams {
    /// Keeps (or drops) the listed top-level fields of an object.
    pub fn project(&self, value: Value) -> Value {
        let Some(fields) = self.fields.as_deref().filter(|f| !f.trim().is_empty()) else {
            return value;
        };
        let Value::Object(map) = value else {
            return value;
        };
        let listed: Vec<&str> = fields.split(',').map(str::trim).collect();
        let include = self.include_fields.unwrap_or(true);
        Value::Object(
            map.into_iter()
                .filter(|(key, _)| listed.contains(&key.as_str()) == include)
                .collect(),
        )
    }

    /// Serialises and projects every item.
    pub fn project_all<T: Serialize>(&self, items: impl IntoIterator<Item = T>) -> Vec<Value> {
        items
            .into_iter()
            .map(|item| self.project(serde_json::to_value(item).unwrap_or(Value::Null)))
            .collect()
    }
}

#[cfg(test)]
mod properties {
    //! The paging arithmetic over a list of `n` items: offset pages and checkpoints each
    //! visit every item once, in order (no overlap, no gap), with the right totals, and no
    //! query makes the arithmetic overflow.

    use proptest::prelude::*;

    use super::*;

    /// What a store answers for `page` of `all` (`LIMIT per_page OFFSET page * per_page`).
    fn store(all: &[u32], page: Page) -> Vec<u32> {
        all.iter()
            .copied()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(page.per_page as usize)
            .collect()
    }

    proptest! {
        #[test]
        fn offset_pages_cover_the_list_once(n in 0u32..400, per_page in 1u32..=MAX_PER_PAGE, totals: bool) {
            let all: Vec<u32> = (0..n).collect();
            let mut seen: Vec<u32> = Vec::new();
            for page in 0..=(n / per_page) {
                let params = PageParams { page: Some(page), per_page: Some(per_page), include_totals: Some(totals) };
                let paging = params.paging().unwrap();
                prop_assert_eq!(paging.include_totals, totals);
                prop_assert_eq!(paging.offset(), (page * per_page) as usize);
                let (items, total) = paging.slice(all.clone());
                prop_assert_eq!(total, u64::from(n));
                prop_assert!(items.len() <= per_page as usize);
                // The store's page is the same page.
                prop_assert_eq!(&store(&all, paging.store_page()), &items);
                seen.extend(items);
            }
            prop_assert_eq!(seen, all);
        }

        #[test]
        fn offset_paging_refuses_what_it_cannot_serve(page: Option<u32>, per_page: Option<u32>) {
            let params = PageParams { page, per_page, include_totals: None };
            let per = per_page.unwrap_or(DEFAULT_PER_PAGE);
            let far = u64::from(page.unwrap_or(0)) * u64::from(per.max(1)) > MAX_OFFSET;
            match params.paging() {
                Ok(paging) => {
                    prop_assert!(per <= MAX_PER_PAGE && !far);
                    prop_assert_eq!(paging.per_page, per);
                    prop_assert_eq!(paging.page, page.unwrap_or(0));
                }
                Err(_) => prop_assert!(per > MAX_PER_PAGE || far),
            }
        }

        #[test]
        fn checkpoints_cover_the_list_once(n in 0u32..400, take in 1u32..=MAX_PER_PAGE) {
            let all: Vec<u32> = (0..n).collect();
            let mut seen: Vec<u32> = Vec::new();
            let mut from: Option<String> = None;
            loop {
                let params = CheckpointParams { from: from.clone(), take: Some(take) };
                let checkpoint = params.checkpoint().unwrap();
                let (items, total) = checkpoint.slice(all.clone());
                prop_assert_eq!(total, u64::from(n));
                prop_assert!(items.len() <= take as usize);
                let (page, skip) = checkpoint.store_page();
                let from_store: Vec<u32> = store(&all, page).into_iter().skip(skip).collect();
                prop_assert_eq!(&from_store, &items);
                seen.extend(&items);
                match checkpoint.next(items.len(), total) {
                    Some(next) => {
                        prop_assert!(!items.is_empty(), "a next checkpoint after an empty page");
                        from = Some(next);
                    }
                    None => break,
                }
            }
            prop_assert_eq!(seen, all);
        }

        #[test]
        fn any_checkpoint_is_served_or_refused(n in 0u32..300, from in prop_oneof![
            "[0-9]{1,25}".prop_map(Some), "\\PC{0,8}".prop_map(Some), Just(None),
        ], take: Option<u32>) {
            let all: Vec<u32> = (0..n).collect();
            let params = CheckpointParams { from: from.clone(), take };
            let Ok(checkpoint) = params.checkpoint() else { return Ok(()) };
            prop_assert!(checkpoint.offset as u64 <= MAX_OFFSET);
            prop_assert!((1..=MAX_PER_PAGE).contains(&checkpoint.take));
            // The store's page, skipped, is the slice: whatever the offset, no item is lost.
            let (page, skip) = checkpoint.store_page();
            let from_store: Vec<u32> = store(&all, page).into_iter().skip(skip).collect();
            let (items, _) = checkpoint.slice(all.clone());
            prop_assert_eq!(&from_store, &items);
            if let Some(next) = checkpoint.next(items.len(), u64::from(n)) {
                prop_assert_eq!(next.parse::<usize>().unwrap(), checkpoint.offset + items.len());
            }
        }
    }
}
