// @generated automatically by Diesel CLI.

diesel::table! {
    article_counts (id) {
        id -> BigInt,
        kind -> Integer,
        ref_id -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    article_authors (article_id, author_id) {
        article_id -> Integer,
        author_id -> Integer,
        position -> Integer,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    article_regions (article_id, region_id) {
        article_id -> Integer,
        region_id -> Integer,
        position -> Integer,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> Integer,
        tag_id -> Integer,
        position -> Integer,
        published_at -> Nullable<Timestamp>,
        language -> Nullable<Text>,
    }
}

diesel::table! {
    article_views (article_id, hour) {
        article_id -> Integer,
        hour -> BigInt,
        views -> Integer,
    }
}

diesel::table! {
    articles (id) {
        id -> Integer,
        slug -> Text,
        language -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        section_id -> Nullable<Integer>,
        source -> Nullable<Text>,
        hero_media_id -> Nullable<Integer>,
        featured -> Bool,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        word_count -> Integer,
        reading_time_minutes -> Integer,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        body_html -> Text,
        body -> Text,
        translation_group -> Nullable<Integer>,
        unpublish_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<Integer>,
        announced -> Integer,
    }
}

diesel::table! {
    authors (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        bio -> Nullable<Text>,
        avatar_media_id -> Nullable<Integer>,
        links -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        localized -> Text,
    }
}

diesel::table! {
    breaking_events (id) {
        id -> Integer,
        kind -> Text,
        item_id -> Integer,
        language -> Text,
        payload -> Text,
        due_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    breaking_items (id) {
        id -> Integer,
        text -> Text,
        language -> Text,
        article_id -> Nullable<Integer>,
        url -> Nullable<Text>,
        priority -> Integer,
        published_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    collection_articles (collection_id, article_id) {
        collection_id -> Integer,
        article_id -> Integer,
        position -> Integer,
        pinned -> Bool,
    }
}

diesel::table! {
    collections (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        language -> Text,
        hero_media_id -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        localized -> Text,
    }
}

diesel::table! {
    content_state (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Integer,
        key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    media (id) {
        id -> Integer,
        kind -> Text,
        url -> Text,
        mime_type -> Nullable<Text>,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        duration_seconds -> Nullable<Integer>,
        caption -> Nullable<Text>,
        credit -> Nullable<Text>,
        alt_text -> Nullable<Text>,
        language -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        localized -> Text,
        bytes -> Nullable<BigInt>,
        sha256 -> Nullable<Text>,
        focal_x -> Nullable<Double>,
        focal_y -> Nullable<Double>,
        dominant_color -> Nullable<Text>,
        placeholder -> Nullable<Text>,
        renditions -> Text,
    }
}

diesel::table! {
    old_slugs (kind, slug) {
        kind -> Text,
        slug -> Text,
        target_id -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    regions (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        localized -> Text,
    }
}

diesel::table! {
    sections (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        parent_id -> Nullable<Integer>,
        position -> Integer,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        localized -> Text,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    tags (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        localized -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        disabled -> Bool,
        token_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    article_revisions (article_id, number) {
        article_id -> Integer,
        number -> Integer,
        created_at -> Timestamp,
        author_id -> Nullable<Integer>,
        author_name -> Nullable<Text>,
        summary -> Text,
        fields -> Text,
        body -> Nullable<Binary>,
    }
}

diesel::table! {
    article_corrections (id) {
        id -> Integer,
        article_id -> Integer,
        text -> Text,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    preview_links (id) {
        id -> Integer,
        article_id -> Integer,
        token_hash -> Text,
        expires_at -> Timestamp,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Integer,
        at -> Timestamp,
        actor_id -> Nullable<Integer>,
        actor_name -> Nullable<Text>,
        action -> Text,
        resource -> Text,
        resource_id -> Nullable<Integer>,
        summary -> Text,
        count -> Integer,
        burst -> Nullable<Text>,
    }
}

diesel::joinable!(article_authors -> articles (article_id));
diesel::joinable!(article_authors -> authors (author_id));
diesel::joinable!(article_regions -> articles (article_id));
diesel::joinable!(article_regions -> regions (region_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(article_views -> articles (article_id));
diesel::joinable!(articles -> media (hero_media_id));
diesel::joinable!(articles -> sections (section_id));
diesel::joinable!(articles -> users (created_by));
diesel::joinable!(authors -> media (avatar_media_id));
diesel::joinable!(breaking_items -> articles (article_id));
diesel::joinable!(collection_articles -> articles (article_id));
diesel::joinable!(collection_articles -> collections (collection_id));
diesel::joinable!(collections -> media (hero_media_id));

diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(article_corrections -> articles (article_id));
diesel::joinable!(preview_links -> articles (article_id));

diesel::table! {
    api_tokens (id) {
        id -> Integer,
        user_id -> Integer,
        name -> Text,
        scopes -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        created_by -> Nullable<Integer>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        user_id -> Integer,
        nonce -> Text,
        token_version -> Integer,
        generation -> Integer,
        rotated_at -> Timestamp,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Integer,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        secret -> Text,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Integer,
        msg_id -> Text,
        event_type -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Integer,
        webhook_id -> Integer,
        event_id -> Integer,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        last_duration_ms -> Nullable<Integer>,
        attempt_log -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));

diesel::table! {
    sitemap_blocks (block) {
        block -> Integer,
        changed_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    article_counts,
    sitemap_blocks,
    api_tokens,
    sessions,
    webhooks,
    webhook_events,
    webhook_deliveries,
    article_corrections,
    article_revisions,
    audit_log,
    preview_links,
    article_authors,
    article_regions,
    article_tags,
    article_views,
    articles,
    authors,
    breaking_events,
    breaking_items,
    collection_articles,
    collections,
    content_state,
    idempotency_keys,
    media,
    old_slugs,
    regions,
    sections,
    settings,
    tags,
    users,
);
