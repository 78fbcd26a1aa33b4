//! The audit log: one entry per write, made inside the write's own transaction (a write
//! that fails leaves none), readable by admins. Entries name who did what to which
//! resource, never a secret: summaries are made from names and titles only.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Actor;
use crate::db::kept;
use crate::db::{DbBackend, DbConn};
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::params::Params;
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::schema::{audit_log, users};

crate::closed_set! {
    /// What a write did.
    #[stored_as_text]
    pub enum Action {
        Create = "create",
        Update = "update",
        Delete = "delete",
        /// A revision made current again, or an article taken out of the trash.
        Restore = "restore",
        /// An article made public (or scheduled).
        Publish = "publish",
        SignIn = "sign_in",
        /// Failed sign-ins: one entry per account and address per minute, with a count.
        SignInFailed = "sign_in_failed",
    }
}

/// The longest summary kept, in characters (titles can be long).
const MAX_SUMMARY: usize = 300;

/// The name `actor` has now, to keep with what they do.
pub fn name_of(conn: &mut DbConn, actor: Actor) -> AppResult<Option<String>> {
    // `get_result`, not `first`: SQLite prepares a statement with a bound LIMIT again
    // at every call. On the backend's own connection (`on_backend!`), as each write has
    // it.
    Ok(crate::on_backend!(conn, |c| users::table
        .find(actor.id)
        .select(users::name)
        .get_result::<String>(c)
        .optional()?))
}

/// Records one entry for `actor` (inside the caller's write transaction).
pub fn record(
    conn: &mut DbConn,
    actor: Option<Actor>,
    action: Action,
    resource: &str,
    resource_id: Option<i32>,
    summary: &str,
) -> AppResult<()> {
    let name = match actor {
        Some(a) => name_of(conn, a)?,
        None => None,
    };
    record_named(conn, actor, name, action, resource, resource_id, summary)
}

/// [`record`] with the actor's name already read.
pub fn record_named(
    conn: &mut DbConn,
    actor: Option<Actor>,
    name: Option<String>,
    action: Action,
    resource: &str,
    resource_id: Option<i32>,
    summary: &str,
) -> AppResult<()> {
    let entry = Entry {
        actor,
        name,
        action,
        resource,
        resource_id,
        summary: summary.to_owned(),
    };
    record_many(conn, vec![entry])
}

/// One entry of [`record_many`].
pub struct Entry<'a> {
    pub actor: Option<Actor>,
    /// The actor's name as it is now.
    pub name: Option<String>,
    pub action: Action,
    pub resource: &'a str,
    pub resource_id: Option<i32>,
    pub summary: String,
}

/// Records several entries at once (inside the caller's write transaction).
pub fn record_many(conn: &mut DbConn, entries: Vec<Entry<'_>>) -> AppResult<()> {
    let at = Timestamp::now().0;
    let rows: Vec<_> = entries
        .into_iter()
        .map(|e| {
            (
                audit_log::at.eq(at),
                audit_log::actor_id.eq(e.actor.map(|a| a.id)),
                audit_log::actor_name.eq(e.name),
                audit_log::action.eq(e.action),
                audit_log::resource.eq(e.resource),
                audit_log::resource_id.eq(e.resource_id),
                audit_log::summary.eq(clip(&e.summary)),
            )
        })
        .collect();
    crate::insert_rows!(conn, audit_log, rows);
    Ok(())
}

/// Records a failed sign-in for the account `user` (if the address named one) from
/// `address`: the entry of this account, address and minute counts one more, or a new
/// one starts. The password tried is never recorded.
pub fn failed_sign_in(
    conn: &mut DbConn,
    user: Option<(i32, String)>,
    email: &str,
    address: &str,
) -> AppResult<()> {
    let now = Timestamp::now().0;
    let minute = now.and_utc().timestamp() / 60;
    let account = match &user {
        Some((id, _)) => format!("user:{id}"),
        None => format!("email:{}", email.to_lowercase()),
    };
    let burst = format!("{account}|{address}|{minute}");
    let bumped = kept::update(
        audit_log::table,
        audit_log::count.eq(audit_log::count + 1),
        audit_log::burst.eq(&burst),
    )
    .execute(conn)?;
    if bumped > 0 {
        return Ok(());
    }
    let who = match &user {
        Some(_) => String::new(),
        None => " (no such account)".to_owned(),
    };
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now),
            audit_log::actor_id.eq(user.as_ref().map(|u| u.0)),
            audit_log::actor_name.eq(user.as_ref().map(|u| u.1.clone())),
            audit_log::action.eq(Action::SignInFailed),
            audit_log::resource.eq("user"),
            audit_log::resource_id.eq(user.as_ref().map(|u| u.0)),
            audit_log::summary.eq(clip(&format!(
                "failed sign-in as {email}{who} from {address}"
            ))),
            audit_log::burst.eq(Some(burst)),
        ))
        .execute(conn)?;
    Ok(())
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_SUMMARY) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// Who made a change: the account's id and its name when the change was made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditActor {
    #[schema(example = 1)]
    pub id: i32,
    #[schema(example = "Amira Saleh")]
    pub name: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    #[schema(example = 812)]
    pub id: i32,
    pub at: Timestamp,
    /// The account that made the change (`null` for a failed sign-in of an unknown
    /// address, or an account since deleted without a name on record).
    pub actor: Option<AuditActor>,
    pub action: Action,
    /// `article`, `author`, `tag`, `section`, `region`, `media`, `breaking_item`,
    /// `collection`, `user`, `correction` or `preview_link`.
    #[schema(example = "article")]
    pub resource: String,
    #[schema(example = 42)]
    pub resource_id: Option<i32>,
    #[schema(example = "changed title, body of \"Ceasefire talks resume in Cairo\"")]
    pub summary: String,
    /// How many times it happened (failed sign-ins grouped by minute; 1 otherwise).
    #[schema(example = 1)]
    pub count: i32,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: i32,
    at: chrono::NaiveDateTime,
    actor_id: Option<i32>,
    actor_name: Option<String>,
    action: Action,
    resource: String,
    resource_id: Option<i32>,
    summary: String,
    count: i32,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        let actor = match (r.actor_id, r.actor_name) {
            (Some(id), Some(name)) => Some(AuditActor { id, name }),
            _ => None,
        };
        Self {
            id: r.id,
            at: r.at.into(),
            actor,
            action: r.action,
            resource: r.resource,
            resource_id: r.resource_id,
            summary: r.summary,
            count: r.count,
        }
    }
}

/// The filters of `GET /audit` (with [`PageParams`](crate::domain::paging::PageParams)).
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries by this account (user id).
    #[param(minimum = 1)]
    pub actor: Option<i32>,
    /// Only entries about this kind of resource (`article`, `user`…).
    #[param(max_length = 40)]
    pub resource: Option<String>,
    /// Only this action.
    #[param(inline)]
    pub action: Option<Action>,
    /// Only entries at or after this time.
    pub after: Option<Timestamp>,
    /// Only entries before this time.
    pub before: Option<Timestamp>,
}

/// A parsed `GET /audit` request.
#[derive(Debug)]
pub struct AuditQuery {
    pub params: AuditParams,
    pub page: PageRequest,
}

/// The only order of the log.
const SORT: &str = "-id";

impl AuditQuery {
    /// Reads the query string of `GET /audit`.
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let filters: AuditParams = params.read()?;
        let page = PageRequest::from_params(&mut params, codec, SORT)?;
        params.finish()?;
        if let (Some(a), Some(b)) = (&filters.after, &filters.before)
            && a.0 >= b.0
        {
            return Err(AppError::bad_param("before", "must be later than after"));
        }
        Ok(Self {
            params: filters,
            page,
        })
    }
}

/// A page of the log, newest first.
pub fn list(
    conn: &mut DbConn,
    q: &AuditQuery,
    codec: &CursorCodec,
) -> AppResult<ListResponse<AuditEntry>> {
    let p = &q.params;
    let filtered = || {
        let mut query = audit_log::table.into_boxed::<DbBackend>();
        if let Some(actor) = p.actor {
            query = query.filter(audit_log::actor_id.eq(actor));
        }
        if let Some(resource) = &p.resource {
            query = query.filter(audit_log::resource.eq(resource.clone()));
        }
        if let Some(action) = p.action {
            query = query.filter(audit_log::action.eq(action));
        }
        if let Some(after) = &p.after {
            query = query.filter(audit_log::at.ge(after.0));
        }
        if let Some(before) = &p.before {
            query = query.filter(audit_log::at.lt(before.0));
        }
        query
    };
    let mut query = filtered().select(AuditRow::as_select());
    if let Some(after) = q.page.after() {
        query = query.filter(audit_log::id.lt(after.last_id()?));
    }
    let rows: Vec<AuditRow> = query
        .order(audit_log::id.desc())
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(filtered().count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    Ok(paging::finish_page(
        rows,
        &q.page,
        SORT,
        codec,
        total,
        |r| vec![KeyValue::Int(i64::from(r.id))],
        AuditEntry::from,
    ))
}

/// What the audit log says of a resource: its kind and a short name for summaries.
pub trait Audited {
    /// The resource's kind, as the log names it.
    const RESOURCE: &'static str;
    /// The resource's id.
    fn audit_id(&self) -> i32;
    /// A name for the summary (a title, a name, a caption).
    fn audit_name(&self) -> String;
}

/// Records `action` on `item` by `actor`, with the summary "`action` `resource` «name»",
/// and queues the webhook event the write makes, if any (breaking items, media).
pub fn wrote<T: Audited + serde::Serialize>(
    conn: &mut DbConn,
    actor: Actor,
    action: Action,
    item: &T,
) -> AppResult<()> {
    use crate::webhooks::EventType;
    let event = match (T::RESOURCE, action) {
        ("breaking_item", Action::Create) => Some(EventType::BreakingCreated),
        ("breaking_item", Action::Update) => Some(EventType::BreakingUpdated),
        ("breaking_item", Action::Delete) => Some(EventType::BreakingDeleted),
        ("media", Action::Create) => Some(EventType::MediaCreated),
        _ => None,
    };
    if let Some(event) = event {
        let data = serde_json::to_value(item).map_err(AppError::internal)?;
        crate::webhooks::emit(conn, event, data)?;
    }
    let verb = match action {
        Action::Create => "created",
        Action::Update => "changed",
        Action::Delete => "deleted",
        Action::Restore => "restored",
        Action::Publish => "published",
        Action::SignIn => "signed in",
        Action::SignInFailed => "failed to sign in",
    };
    let summary = format!("{verb} {} \"{}\"", T::RESOURCE, item.audit_name());
    record(
        conn,
        Some(actor),
        action,
        T::RESOURCE,
        Some(item.audit_id()),
        &summary,
    )
}

/// Implements [`Audited`] for a resource type with an `id` and a name field.
#[macro_export]
macro_rules! audited {
    ($ty:ty, $resource:literal, |$it:ident| $name:expr) => {
        impl $crate::domain::audit::Audited for $ty {
            const RESOURCE: &'static str = $resource;
            fn audit_id(&self) -> i32 {
                self.id
            }
            fn audit_name(&self) -> String {
                let $it = self;
                $name
            }
        }
    };
}

/// A write's result with its entry recorded: `action` on the item it made, by `actor`.
pub fn logged<T: Audited + serde::Serialize>(
    conn: &mut DbConn,
    actor: Actor,
    action: Action,
    written: crate::db::Written<T>,
) -> AppResult<crate::db::Written<T>> {
    written.and_then(|item| {
        wrote(conn, actor, action, &item)?;
        Ok(item)
    })
}

crate::audited!(crate::domain::articles::Article, "article", |a| a
    .title
    .clone());
crate::audited!(crate::domain::tags::Tag, "tag", |t| t.name.clone());
crate::audited!(crate::domain::authors::Author, "author", |a| a.name.clone());
crate::audited!(crate::domain::sections::Section, "section", |s| s
    .name
    .clone());
crate::audited!(crate::domain::regions::Region, "region", |r| r.name.clone());
crate::audited!(crate::domain::collections::Collection, "collection", |c| c
    .name
    .clone());
crate::audited!(
    crate::domain::breaking_items::BreakingItem,
    "breaking_item",
    |b| b.text.clone()
);
crate::audited!(crate::domain::users::User, "user", |u| u.name.clone());
crate::audited!(crate::webhooks::Webhook, "webhook", |w| w.url.clone());
crate::audited!(crate::domain::media::Media, "media", |m| m
    .caption
    .clone()
    .unwrap_or_else(|| m.url.clone()));
