//! API errors: a status and a JSON body `{"error": "...", "field": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tocsin_domain::DomainError;
use tocsin_store::StoreError;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a person.
    pub message: String,
    /// The offending input field, if one.
    pub field: Option<String>,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            field: None,
        }
    }

    /// A 400 naming `field`.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// 401.
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication required: send Authorization: Bearer TOKEN",
        )
    }

    /// 404.
    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not found")
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: format!("{field}: {message}"),
                field: Some(field),
            },
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            StoreError::Domain(d) => d.into(),
            StoreError::Backend(m) => {
                tracing::error!(error = %m, "storage failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage is unavailable; nothing was written",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(f) = self.field {
            body["field"] = f.into();
        }
        (self.status, Json(body)).into_response()
    }
}

/// Result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<tocsin_app::AppError> for ApiError {
    fn from(e: tocsin_app::AppError) -> Self {
        use tocsin_app::AppError as A;
        match e {
            A::Forbidden { message, .. } => ApiError::new(StatusCode::FORBIDDEN, message),
            A::NotFound => ApiError::not_found(),
            A::Invalid { field, message } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: format!("{field}: {message}"),
                field: Some(field),
            },
            A::BadField { field, message } => ApiError::field(field, message),
            A::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            A::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage is unavailable; nothing was written",
            ),
            A::Internal(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}
