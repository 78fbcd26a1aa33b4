//! Closed sets kept in columns that the database layer itself filters on, so that its
//! raw SQL and its Diesel queries name them by type, never by a second spelling.

crate::closed_set! {
    /// An article's status as written and stored: a draft, or published (shown as
    /// scheduled while its `published_at` is still ahead).
    #[stored_as_text]
    pub enum StoredStatus {
        Draft = "draft",
        Published = "published",
    }
}
