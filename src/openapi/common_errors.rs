//! Documents the error responses that follow from an operation's shape, so that no
//! route has to remember them: the JSON body extractor answers 400, 413, 415 and 422;
//! the query parsers and header readers answer 400; a path that names an object answers 404 when there is
//! none; the token extractors answer 401 (a bad token, even on a public read that
//! accepts one) and 403; and any operation can fail with a 5XX. Routes write only what
//! is theirs (409, 429, a 503 of their own).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{OpenApi, RefOr};

use super::http_semantics::add_response;

/// Adds the shape-derived error responses to every operation.
pub fn describe(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.options.as_mut(),
            item.head.as_mut(),
            item.patch.as_mut(),
            item.trace.as_mut(),
        ];
        for op in ops.into_iter().flatten() {
            describe_operation(op);
        }
    }
}

fn describe_operation(op: &mut Operation) {
    let has_body = op.request_body.is_some();
    // A malformed header the server reads (`Idempotency-Key`) is a 400 too.
    if has_body
        || has_parameter_in(op, ParameterIn::Query)
        || has_parameter_in(op, ParameterIn::Header)
    {
        add_response(op, "400", "BadRequest");
    }
    if has_parameter_in(op, ParameterIn::Path) {
        add_response(op, "404", "NotFound");
    }
    if has_body {
        add_response(op, "413", "PayloadTooLarge");
        add_response(op, "415", "UnsupportedMediaType");
        add_response(op, "422", "ValidationFailed");
    }
    match token(op) {
        Token::Required => {
            add_response(op, "401", "Unauthorized");
            add_response(op, "403", "Forbidden");
        }
        Token::Optional => add_response(op, "401", "Unauthorized"),
        Token::Ignored => {}
    }
    add_response(op, "5XX", "ServerError");
}

fn has_parameter_in(op: &Operation, place: ParameterIn) -> bool {
    op.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == place,
        RefOr::Ref(_) => false,
    })
}

/// What an operation does with a bearer token.
enum Token {
    /// No security requirement: a token is not read.
    Ignored,
    /// The empty requirement is one of the alternatives: anyone may call, and a token,
    /// when sent, must be good.
    Optional,
    /// Every alternative names a scheme.
    Required,
}

fn token(op: &Operation) -> Token {
    match op.security.as_deref() {
        None | Some([]) => Token::Ignored,
        Some(alternatives) if alternatives.contains(&SecurityRequirement::default()) => {
            Token::Optional
        }
        Some(_) => Token::Required,
    }
}
