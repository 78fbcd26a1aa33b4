//! `GET /users`: its query parameters and the page of accounts, by id.

use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{User, UserRow};
use crate::auth::Role;
use crate::db::DbConn;
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::params::Params;
use crate::error::AppResult;
use crate::schema::users;

/// The query parameters of `GET /users` (with [`PageParams`](crate::domain::paging::PageParams)).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserParams {
    /// Only accounts with this role
    pub role: Option<Role>,
}

/// A parsed `GET /users` request.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub page: PageRequest,
    pub role: Option<Role>,
}

impl UserQuery {
    /// Reads the query string of `GET /users` (sorted by id).
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let UserParams { role } = params.read()?;
        let page = PageRequest::from_params(&mut params, codec, "id")?;
        params.finish()?;
        Ok(Self { page, role })
    }
}

/// Lists accounts by id.
pub fn list(
    conn: &mut DbConn,
    q: &UserQuery,
    codec: &CursorCodec,
) -> AppResult<ListResponse<User>> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    let mut count = users::table.into_boxed();
    if let Some(role) = q.role {
        query = query.filter(users::role.eq(role));
        count = count.filter(users::role.eq(role));
    }
    if let Some(after) = q.page.after() {
        query = query.filter(users::id.gt(after.last_id()?));
    }
    let rows: Vec<UserRow> = query
        .order(users::id.asc())
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(count.count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    Ok(paging::finish_page(
        rows,
        &q.page,
        "id",
        codec,
        total,
        |r| vec![KeyValue::Int(i64::from(r.id))],
        User::from,
    ))
}
