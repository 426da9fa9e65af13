//! The identity service, as third-party clients read it: the identity URL that
//! the token answer's `id` names (`GET /id/{orgId}/{userId}`) and the OpenID
//! Connect UserInfo endpoint (`GET|POST /services/oauth2/userinfo`).
//!
//! Both take the access token as a Bearer header or an `oauth_token` query
//! parameter (jsforce's `identity()` sends both) and answer JSON. Salesforce's
//! errors (SF docs "Identity URLs"): a token that is not valid is 403
//! `Bad_OAuth_Token`, an identity URL of another org 403 `Wrong_Org`, one of no
//! user 404 `Bad_Id`; the bodies are those plain words. The UserInfo endpoint
//! answers only for the token's own user (Salesforce Help, "Query for User
//! Information").

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ids;
use crate::rest::bearer_token;
use crate::server::{Shared, lock};
use crate::store::Actor;

/// The query string both endpoints read.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenParams {
    oauth_token: Option<String>,
    format: Option<String>,
}

fn refusal(status: StatusCode, word: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
        word,
    )
        .into_response()
}

fn caller(shared: &Shared, headers: &HeaderMap, params: &TokenParams) -> Option<Actor> {
    let token = bearer_token(headers).or(params.oauth_token.as_deref())?;
    shared.actor_of_token(token)
}

/// The user's `Name`, `Username` and `Email`, from the org's `User` record.
fn user_fields(shared: &Shared, user_id: &str) -> Option<(String, String, String)> {
    let store = lock(&shared.store);
    let user = store.get(user_id)?;
    let text = |name: &str| {
        user.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Some((text("Name"), text("Username"), text("Email")))
}

/// The API endpoints of an identity answer, with Salesforce's `{version}` placeholder.
fn urls(shared: &Shared, user_id: &str) -> Value {
    let base = &shared.base_url;
    let org15 = &shared.config.org_id[..15];
    json!({
        "enterprise": format!("{base}/services/Soap/c/{{version}}/{org15}"),
        "metadata": format!("{base}/services/Soap/m/{{version}}/{org15}"),
        "partner": format!("{base}/services/Soap/u/{{version}}/{org15}"),
        "rest": format!("{base}/services/data/v{{version}}/"),
        "sobjects": format!("{base}/services/data/v{{version}}/sobjects/"),
        "search": format!("{base}/services/data/v{{version}}/search/"),
        "query": format!("{base}/services/data/v{{version}}/query/"),
        "recent": format!("{base}/services/data/v{{version}}/recent/"),
        "tooling_rest": format!("{base}/services/data/v{{version}}/tooling/"),
        "profile": format!("{base}/{user_id}"),
        "custom_domain": base,
    })
}

fn json_answer(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /id/{orgId}/{userId}`: the identity of a user of this org.
pub(crate) async fn identity_url(
    State(shared): State<Arc<Shared>>,
    Path((org_id, user_id)): Path<(String, String)>,
    Query(params): Query<TokenParams>,
    headers: HeaderMap,
) -> Response {
    let Some(actor) = caller(&shared, &headers, &params) else {
        return refusal(StatusCode::FORBIDDEN, "Bad_OAuth_Token");
    };
    if params.format.as_deref().is_some_and(|f| f != "json") {
        return refusal(StatusCode::NOT_ACCEPTABLE, "No_Access");
    }
    if ids::normalize(&org_id).as_deref() != Some(shared.config.org_id.as_str()) {
        return refusal(StatusCode::FORBIDDEN, "Wrong_Org");
    }
    let Some(user_id) = ids::normalize(&user_id).filter(|id| id.starts_with("005")) else {
        return refusal(StatusCode::NOT_FOUND, "Bad_Id");
    };
    let Some((name, username, email)) = user_fields(&shared, &user_id) else {
        return refusal(StatusCode::NOT_FOUND, "Bad_Id");
    };
    json_answer(json!({
        "id": shared.identity_url(&user_id),
        "asserted_user": actor.user_id == user_id,
        "user_id": user_id,
        "organization_id": shared.config.org_id,
        "username": username,
        "nick_name": username.split('@').next().unwrap_or_default(),
        "display_name": name,
        "email": email,
        "email_verified": true,
        "first_name": Value::Null,
        "last_name": name,
        "timezone": "Asia/Tokyo",
        "status": {"created_date": Value::Null, "body": Value::Null},
        "urls": urls(&shared, &user_id),
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 32_400_000,
        "is_app_installed": true,
    }))
}

/// `GET|POST /services/oauth2/userinfo`: OpenID Connect claims of the token's user.
pub(crate) async fn userinfo(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<TokenParams>,
    headers: HeaderMap,
) -> Response {
    let Some(actor) = caller(&shared, &headers, &params) else {
        return refusal(StatusCode::FORBIDDEN, "Bad_OAuth_Token");
    };
    let Some((name, username, email)) = user_fields(&shared, &actor.user_id) else {
        return refusal(StatusCode::NOT_FOUND, "Bad_Id");
    };
    json_answer(json!({
        "sub": shared.identity_url(&actor.user_id),
        "user_id": actor.user_id,
        "organization_id": shared.config.org_id,
        "preferred_username": username,
        "nickname": username.split('@').next().unwrap_or_default(),
        "name": name,
        "email": email,
        "email_verified": true,
        "given_name": Value::Null,
        "family_name": name,
        "zoneinfo": "Asia/Tokyo",
        "profile": format!("{}/{}", shared.base_url, actor.user_id),
        "urls": urls(&shared, &actor.user_id),
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 32_400_000,
    }))
}
