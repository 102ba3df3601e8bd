//! GitLab's error responses: `{"message": "..."}` for most failures, `{"error": "..."}`
//! for a parameter that is missing or malformed (as Grape reports them), with GitLab's
//! status codes. The library's errors are mapped here, in one place.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    body: serde_json::Value,
    /// What went wrong inside, for the server's log only: a response never carries
    /// the server's paths, a helper program's output or a library's internals.
    detail: Option<String>,
    retry_after: Option<u64>,
}

/// The inside story of a failed request, handed from the response to the log.
#[derive(Debug, Clone)]
pub struct Detail(pub String);

impl ApiError {
    pub fn message(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "message": message.into() }),
            detail: None,
            retry_after: None,
        }
    }

    /// A parameter error, as Grape words them (`tag_name is missing`).
    pub fn param(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "error": message.into() }),
            detail: None,
            retry_after: None,
        }
    }

    /// 503: the server is at a limit; the client may try again in `seconds`.
    pub fn busy(what: &str, seconds: u64) -> Self {
        let mut error = Self::message(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("503 Service Unavailable: {what}"),
        );
        error.retry_after = Some(seconds);
        error
    }

    pub fn unavailable(what: &str) -> Self {
        Self::message(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("503 Service Unavailable: {what}"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::message(StatusCode::NOT_FOUND, format!("404 {what} Not Found"))
    }

    pub fn unauthorized() -> Self {
        Self::message(StatusCode::UNAUTHORIZED, "401 Unauthorized")
    }

    pub fn forbidden() -> Self {
        Self::message(StatusCode::FORBIDDEN, "403 Forbidden")
    }

    /// A 500: the detail goes to the server's log, the client reads only the status.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let mut error = Self::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        );
        error.detail = Some(detail.to_string());
        error
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        use StatusCode as S;
        let text = error.to_string();
        match &error {
            Error::ReleaseNotFound { .. } | Error::NoReleases => Self::not_found("Release"),
            Error::UnknownTag { .. } | Error::ArchiveRevision { .. } => Self::not_found("Tag"),
            Error::LinkNotFound { .. } | Error::AssetNotFound { .. } => Self::not_found("Link"),
            Error::MilestoneNotFound { .. } => Self::not_found("Milestone"),
            Error::ArchivePath { .. } => Self::not_found("File"),
            Error::FreezeNotFound { .. } => Self::not_found("Freeze Period"),
            Error::EvidenceNotFound { .. } | Error::EvidenceNotYet { .. } => {
                Self::not_found("Evidence")
            }
            Error::ReleaseExists { .. } => Self::message(S::CONFLICT, "Release already exists"),
            Error::RefNotSpecified { .. } => {
                Self::message(S::UNPROCESSABLE_ENTITY, "Ref is not specified")
            }
            Error::UnknownRef { .. } | Error::EvidenceNotDue { .. } | Error::Refused { .. } => {
                Self::message(S::UNPROCESSABLE_ENTITY, text)
            }
            Error::ReleaseBeingCreated { .. }
            | Error::TagExists { .. }
            | Error::Contention { .. }
            | Error::StaleLock { .. } => Self::message(S::CONFLICT, text),
            // GitLab's words: its `MilestoneRelease` validation, as the create answers it.
            Error::AncestorGroupMilestone { .. } => Self::message(
                S::BAD_REQUEST,
                "Validation failed: Milestone releases None of the group milestones have the \
                 same project as the release",
            ),
            Error::MilestoneExists { .. } => Self::message(
                S::BAD_REQUEST,
                "Failed to create milestone: title has already been taken",
            ),
            Error::InvalidTagName { .. }
            | Error::InvalidInput { .. }
            | Error::InvalidLink { .. }
            | Error::DuplicateLink { .. }
            | Error::InvalidCron { .. }
            | Error::UnknownTimeZone { .. } => Self::message(S::BAD_REQUEST, text),
            _ => Self::internal(error.with_causes()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if let Some(detail) = self.detail {
            response.extensions_mut().insert(Detail(detail));
        }
        response
    }
}
