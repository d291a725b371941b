//! portcullis-guard: protects an API with access tokens (under construction).
