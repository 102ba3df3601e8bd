//! GitLab's offset pagination: `page` (1-based) and `per_page` (default 20, at most
//! 100) in, `X-Total`, `X-Total-Pages`, `X-Page`, `X-Per-Page`, `X-Next-Page`,
//! `X-Prev-Page` and `Link` (`prev`, `next`, `first`, `last`) out, with the links built
//! on the server's base so that clients (python-gitlab's `get_all`) can follow them.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};

use super::ApiError;
use super::input::{FromQuery, Query};
use crate::release::ordering::{DEFAULT_PER_PAGE, MAX_PER_PAGE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: usize,
    pub per_page: usize,
}

impl Paging {
    /// A page that is not a positive integer is a 400; a `per_page` above 100 is
    /// lowered to 100, as GitLab does.
    pub fn parse(query: &Query) -> Result<Self, ApiError> {
        let number = |key: &'static str, default: usize| -> Result<usize, ApiError> {
            match query.get(key) {
                None | Some("") => Ok(default),
                Some(text) => match text.parse::<usize>() {
                    Ok(n) if n >= 1 => Ok(n),
                    _ => Err(ApiError::param(format!(
                        "{key} does not have a valid value"
                    ))),
                },
            }
        };
        Ok(Paging {
            page: number("page", 1)?,
            per_page: number("per_page", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE),
        })
    }

    /// This page of `items`, and the headers that describe it.
    pub fn apply<T>(self, items: Vec<T>, base: &str, uri: &Uri) -> (Vec<T>, HeaderMap) {
        let total = items.len();
        let pages = total.div_ceil(self.per_page).max(1);
        let next = (self.page < pages).then_some(self.page + 1);
        // Past the last page there is no previous page either (Kaminari's
        // `out_of_range?`): the client asked for nothing that exists.
        let prev = (self.page > 1 && self.page <= pages).then(|| self.page - 1);
        let href = |page: usize| {
            let mut query: Vec<&str> = uri
                .query()
                .unwrap_or_default()
                .split('&')
                .filter(|p| {
                    let raw_key = p.split('=').next().unwrap_or_default();
                    let key = crate::url::unescape(raw_key).unwrap_or_default();
                    // Credentials are not copied into URLs that get logged and shared.
                    !p.is_empty()
                        && key != "page"
                        && key != "per_page"
                        && !super::auth::is_secret_key(raw_key)
                })
                .collect();
            let paging = format!("page={page}&per_page={}", self.per_page);
            query.push(&paging);
            format!("{base}{}?{}", uri.path(), query.join("&"))
        };
        let mut links = Vec::new();
        if let Some(p) = prev {
            links.push(format!("<{}>; rel=\"prev\"", href(p)));
        }
        if let Some(n) = next {
            links.push(format!("<{}>; rel=\"next\"", href(n)));
        }
        links.push(format!("<{}>; rel=\"first\"", href(1)));
        links.push(format!("<{}>; rel=\"last\"", href(pages)));

        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        set("x-total", total.to_string());
        set("x-total-pages", pages.to_string());
        set("x-page", self.page.to_string());
        set("x-per-page", self.per_page.to_string());
        set(
            "x-next-page",
            next.map(|n| n.to_string()).unwrap_or_default(),
        );
        set(
            "x-prev-page",
            prev.map(|p| p.to_string()).unwrap_or_default(),
        );
        set("link", links.join(", "));
        let page = crate::release::ordering::page(items, self.page, self.per_page);
        (page, headers)
    }
}

impl FromQuery for Paging {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Paging::parse(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(query: &str) -> Result<Paging, ApiError> {
        Paging::parse(&Query::parse(Some(query)).unwrap())
    }

    #[test]
    fn pages_are_positive_and_per_page_is_capped() {
        assert_eq!(
            paging("").unwrap(),
            Paging {
                page: 1,
                per_page: 20
            }
        );
        assert_eq!(paging("per_page=500").unwrap().per_page, 100);
        for bad in ["page=0", "page=-1", "page=x", "per_page=0"] {
            assert!(paging(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_describe_the_page_and_link_its_neighbours() {
        let uri: Uri = "/api/v4/projects/1/releases?sort=asc&page=2&per_page=2"
            .parse()
            .unwrap();
        let p = paging("page=2&per_page=2").unwrap();
        let (items, headers) = p.apply((1..=5).collect::<Vec<_>>(), "http://h:1", &uri);
        assert_eq!(items, vec![3, 4]);
        assert_eq!(headers["x-total"], "5");
        assert_eq!(headers["x-total-pages"], "3");
        assert_eq!(headers["x-next-page"], "3");
        assert_eq!(headers["x-prev-page"], "1");
        assert_eq!(
            headers["link"],
            "<http://h:1/api/v4/projects/1/releases?sort=asc&page=1&per_page=2>; rel=\"prev\", \
             <http://h:1/api/v4/projects/1/releases?sort=asc&page=3&per_page=2>; rel=\"next\", \
             <http://h:1/api/v4/projects/1/releases?sort=asc&page=1&per_page=2>; rel=\"first\", \
             <http://h:1/api/v4/projects/1/releases?sort=asc&page=3&per_page=2>; rel=\"last\""
        );
        let (past, headers) = paging("page=9&per_page=2").unwrap().apply(
            (1..=5).collect::<Vec<_>>(),
            "http://h:1",
            &uri,
        );
        assert!(past.is_empty());
        assert_eq!(headers["x-prev-page"], "");
        assert_eq!(headers["x-next-page"], "");
        assert!(!headers["link"].to_str().unwrap().contains("rel=\"prev\""));
        let (empty, headers) = paging("")
            .unwrap()
            .apply(Vec::<u8>::new(), "http://h", &uri);
        assert!(empty.is_empty());
        assert_eq!(headers["x-total-pages"], "1");
        assert_eq!(headers["x-next-page"], "");
    }
}
