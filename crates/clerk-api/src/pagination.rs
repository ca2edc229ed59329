//! Lists: one typed page for Clerk's three shapes, and a stream over every item.

use futures_util::Stream;
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer};

use crate::error::Error;

/// One page of a list: the items, and the total when Clerk says it (`{data, total_count}` answers, or
/// `paginated=true`). Deserialises from a bare array too (then `total_count` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// The total number of items across pages, when known.
    pub total_count: Option<u64>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Shape<T> {
            Array(Vec<T>),
            Envelope { data: Vec<T>, total_count: Option<u64> },
        }
        match Shape::<T>::deserialize(d) {
            Ok(Shape::Array(data)) => Ok(Self { data, total_count: None }),
            Ok(Shape::Envelope { data, total_count }) => Ok(Self { data, total_count }),
            Err(e) => Err(de::Error::custom(format!("expected a list or {{data, total_count}}: {e}"))),
        }
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.data.into_iter()
    }
}

/// A list request that can fetch the page at a given offset (implemented by the generated list builders).
pub trait Paginated: Clone + Send + 'static {
    /// The item type.
    type Item: DeserializeOwned + Send + 'static;

    /// Fetches the page at `offset` with `limit` items.
    fn fetch_page(
        self,
        offset: u64,
        limit: u64,
    ) -> futures_util::future::BoxFuture<'static, Result<Page<Self::Item>, Error>>;
}

/// Every item of a list, fetched page by page (`limit` per page, default 100) with `offset`.
pub fn paginate<P: Paginated>(request: P, page_size: u64) -> impl Stream<Item = Result<P::Item, Error>> + Send {
    let page_size = page_size.clamp(1, 500);
    futures_util::stream::unfold(Some((request, 0u64)), move |state| async move {
        let (req, offset) = state?;
        match req.clone().fetch_page(offset, page_size).await {
            Err(e) => Some((futures_util::stream::iter(vec![Err(e)]), None)),
            Ok(page) => {
                let n = page.data.len() as u64;
                let next = offset + n;
                let more = n == page_size && page.total_count.is_none_or(|t| next < t);
                let items: Vec<Result<P::Item, Error>> = page.data.into_iter().map(Ok).collect();
                Some((futures_util::stream::iter(items), more.then_some((req, next))))
            }
        }
    })
    .flatten()
}

use futures_util::StreamExt as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_from_both_shapes() {
        let p: Page<u32> = serde_json::from_str("[1,2]").unwrap();
        assert_eq!(p, Page { data: vec![1, 2], total_count: None });
        let p: Page<u32> = serde_json::from_str(r#"{"data":[3],"total_count":9}"#).unwrap();
        assert_eq!(p, Page { data: vec![3], total_count: Some(9) });
        assert!(serde_json::from_str::<Page<u32>>(r#"{"items":[]}"#).is_err());
    }
}
