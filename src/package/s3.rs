//! Package bytes in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage,
//! R2), through the `object_store` crate. `release.packageStore = s3://bucket/prefix`
//! says where; the endpoint, region and addressing style come from git config, else
//! from the standard AWS environment (`AWS_ENDPOINT_URL`, `AWS_REGION`, …), and the
//! credentials from that environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, or the other ways the AWS tools find them). A plain `http://`
//! endpoint is refused unless `AWS_ALLOW_HTTP=true`.
//!
//! Each upload is its own object, `<prefix>/<name>/<version>/<file key>/<file name>`:
//! the key is the upload's own random key, so an object is never shared between two
//! records and deleting one record deletes its object alone. Files larger than one
//! part (8 MiB) go up as a multipart upload, a part at a time, so memory stays at one
//! part whatever the size.
//!
//! object_store is asynchronous: each call runs on the server's runtime when there is
//! one (`serve` does its git work on blocking threads of its runtime), else on a
//! runtime of this store's own.

use std::io::{self, Read};
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use super::digests::{self, Digests, Hashing};
use super::repository::read_error;
use crate::error::{Error, Result};

/// The size of each part of a multipart upload (S3 wants at least 5 MiB for all
/// parts but the last).
pub const PART_SIZE: usize = 8 << 20;

/// Where packages go: `s3://bucket/prefix`, with how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
    /// `release.packageStoreEndpoint`; `None`: the environment's, else AWS.
    pub endpoint: Option<String>,
    /// `release.packageStoreRegion`; `None`: the environment's, else `us-east-1`.
    pub region: Option<String>,
    /// `release.packageStorePathStyle`; `None`: path-style with a custom endpoint (as
    /// local S3-compatible servers need), virtual-hosted on AWS itself.
    pub path_style: Option<bool>,
}

/// `s3://bucket[/prefix]` → bucket and prefix.
pub fn parse_url(url: &str) -> Result<(String, String)> {
    let bad = |reason: &str| Error::invalid("package store", url, reason.to_owned());
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| bad("expected s3://bucket/prefix"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !valid_bucket {
        return Err(bad(
            "the bucket name must be 3 to 63 lowercase letters, digits, '.' or '-'",
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix
        .split('/')
        .any(|part| part == "." || part == ".." || (part.is_empty() && !prefix.is_empty()))
    {
        return Err(bad("the prefix must not hold empty, '.' or '..' parts"));
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

/// A runtime to wait on: the caller's (serve's blocking threads), or our own.
#[derive(Clone)]
enum Waiter {
    Handle(tokio::runtime::Handle),
    Own(Arc<tokio::runtime::Runtime>),
}

impl Waiter {
    fn new() -> Result<Self> {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return Ok(Waiter::Handle(handle));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("cannot start the S3 client", e))?;
        Ok(Waiter::Own(Arc::new(runtime)))
    }

    fn wait<F: std::future::Future>(&self, future: F) -> F::Output {
        match self {
            Waiter::Handle(handle) => handle.block_on(future),
            Waiter::Own(runtime) => runtime.block_on(future),
        }
    }
}

/// A connection to one bucket.
#[derive(Clone)]
pub struct S3 {
    store: Arc<AmazonS3>,
    bucket: String,
    waiter: Waiter,
}

fn s3_error(what: &str, e: object_store::Error) -> Error {
    Error::PackageStorage {
        what: what.to_owned(),
        source: Box::new(e),
    }
}

impl S3 {
    pub fn connect(settings: &Settings) -> Result<S3> {
        let endpoint = settings
            .endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT").ok())
            .filter(|e| !e.is_empty());
        let path_style = settings.path_style.unwrap_or(endpoint.is_some());
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            .with_virtual_hosted_style_request(!path_style);
        if let Some(region) = &settings.region {
            builder = builder.with_region(region);
        } else if std::env::var("AWS_REGION").is_err()
            && std::env::var("AWS_DEFAULT_REGION").is_err()
        {
            builder = builder.with_region("us-east-1");
        }
        if let Some(endpoint) = &endpoint {
            let endpoint = endpoint.trim_end_matches('/');
            builder = builder.with_endpoint(if path_style {
                endpoint.to_owned()
            } else {
                // Virtual-hosted style on a custom endpoint: the bucket is the first
                // label of the host (object_store wants it in the endpoint).
                match endpoint.split_once("://") {
                    Some((scheme, host)) => format!("{scheme}://{}.{host}", settings.bucket),
                    None => endpoint.to_owned(),
                }
            });
        }
        let store = builder.build().map_err(|e| {
            s3_error(
                &format!("cannot use the package store s3://{}", settings.bucket),
                e,
            )
        })?;
        Ok(S3 {
            store: Arc::new(store),
            bucket: settings.bucket.clone(),
            waiter: Waiter::new()?,
        })
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The object key of `url` (`s3://<this bucket>/<key>`).
    pub fn key_of<'u>(&self, url: &'u str) -> Option<&'u str> {
        url.strip_prefix("s3://")?
            .strip_prefix(self.bucket.as_str())?
            .strip_prefix('/')
    }

    /// Uploads what `source` brings (at most `limit` bytes) as `key`; returns the
    /// object's URL and the digests. A failed or refused upload leaves no object (a
    /// multipart upload is aborted).
    pub fn write(
        &self,
        key: &str,
        source: &mut dyn Read,
        limit: Option<u64>,
    ) -> Result<(String, Digests)> {
        let path = ObjectPath::from(key);
        let mut hashing = Hashing::new(source, limit);
        let mut part = vec![0u8; PART_SIZE];
        let n = digests::read_full(&mut hashing, &mut part).map_err(read_error)?;
        let what = || format!("cannot upload {}", self.url(key));
        if n < PART_SIZE {
            // One request for a file that fits in one part.
            part.truncate(n);
            self.waiter
                .wait(self.store.put(&path, PutPayload::from(part)))
                .map_err(|e| s3_error(&what(), e))?;
            return Ok((self.url(key), hashing.finish()));
        }
        let mut upload = self
            .waiter
            .wait(self.store.put_multipart(&path))
            .map_err(|e| s3_error(&what(), e))?;
        let result = (|| {
            let mut filled = n;
            loop {
                let payload = PutPayload::from(std::mem::take(&mut part));
                self.waiter
                    .wait(upload.put_part(payload))
                    .map_err(|e| s3_error(&what(), e))?;
                if filled < PART_SIZE {
                    break;
                }
                part = vec![0u8; PART_SIZE];
                filled = digests::read_full(&mut hashing, &mut part).map_err(read_error)?;
                if filled == 0 {
                    break;
                }
                part.truncate(filled);
            }
            self.waiter
                .wait(upload.complete())
                .map_err(|e| s3_error(&what(), e))
        })();
        if let Err(error) = result {
            let _ = self.waiter.wait(upload.abort());
            return Err(error);
        }
        Ok((self.url(key), hashing.finish()))
    }

    /// The object `key` as a stream; `None` when there is no such object.
    pub fn open(&self, key: &str) -> Result<Option<ObjectReader>> {
        let path = ObjectPath::from(key);
        match self.waiter.wait(self.store.get(&path)) {
            Ok(result) => Ok(Some(ObjectReader {
                stream: result.into_stream(),
                current: bytes::Bytes::new(),
                waiter: self.waiter.clone(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_error(&format!("cannot read {}", self.url(key)), e)),
        }
    }

    /// Deletes the object `key` (an absent one is no error).
    pub fn remove(&self, key: &str) -> Result<()> {
        let path = ObjectPath::from(key);
        match self.waiter.wait(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3_error(&format!("cannot delete {}", self.url(key)), e)),
        }
    }
}

/// An object read as it arrives.
pub struct ObjectReader {
    stream: BoxStream<'static, object_store::Result<bytes::Bytes>>,
    current: bytes::Bytes,
    waiter: Waiter,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.waiter.wait(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(e)) => return Err(io::Error::other(e.to_string())),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_name_a_bucket_and_a_prefix() {
        assert_eq!(
            parse_url("s3://releases/pkgs/").unwrap(),
            ("releases".into(), "pkgs".into())
        );
        assert_eq!(
            parse_url("s3://my-bucket").unwrap(),
            ("my-bucket".into(), "".into())
        );
        for bad in [
            "https://x/y",
            "s3://",
            "s3://UPPER/x",
            "s3://ab",
            "s3://bucket/a//b",
            "s3://bucket/../x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
