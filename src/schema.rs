// @generated automatically by Diesel CLI.

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
    }
}

diesel::table! {
    content_state (id) {
        id -> Integer,
        version -> BigInt,
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
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
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

diesel::joinable!(authors -> media (avatar_media_id));

diesel::allow_tables_to_appear_in_same_query!(authors, content_state, media, settings, users,);
