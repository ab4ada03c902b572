// The service's contract, OpenAPI 3.1. A test checks that every route the router serves is here
// (and nothing else), and schemathesis checks the running server against it.
enum OpenAPIDocument {
    /// Every (method, path template) the document describes, as the router registers them.
    static let operations: [(method: String, path: String)] = [
        ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/openapi.json"),
        ("GET", "/v1/users/{id}/recommendations"), ("POST", "/v1/onboarding"), ("GET", "/v1/songs/{id}/similar"),
        ("GET", "/v1/playlists/new-songs"), ("POST", "/v1/events"), ("PUT", "/v1/songs/{id}"), ("PUT", "/v1/users/{id}"),
        ("GET", "/v1/models"), ("POST", "/v1/models/{id}/activate"),
    ]

    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {"title": "Encore", "version": "0.1.0",
           "description": "Music recommendations per listener segment, onboarding, similar songs, the new-song playlist, live feedback and the model registry."},
  "servers": [{"url": "http://127.0.0.1:8080"}],
  "security": [{"bearer": []}],
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key from `encore keys create --role read|write|admin`."}},
    "parameters": {
      "K": {"name": "k", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
      "ID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[^\\u0000-\\u001f]+$"}}
    },
    "responses": {
      "Error": {"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object", "required": ["index", "message"], "properties": {"index": {"type": "integer"}, "message": {"type": "string"}}}}}}}},
      "Reason": {"type": "object", "required": ["kind", "sentence", "songs"], "properties": {
        "kind": {"type": "string", "enum": ["popular", "discovery", "because_you_played", "similar_content", "listened_together", "cluster_mates", "new_song", "model"]},
        "sentence": {"type": "string"}, "songs": {"type": "array", "items": {"type": "string"}}}},
      "Item": {"type": "object", "required": ["song", "title", "artist", "score", "source", "reason"], "properties": {
        "song": {"type": "string"}, "title": {"type": "string"}, "artist": {"type": "string"}, "score": {"type": "number"},
        "source": {"type": "string"}, "reason": {"$ref": "#/components/schemas/Reason"}}},
      "Segment": {"type": "object", "required": ["name", "reason", "values"], "properties": {
        "name": {"type": "string", "enum": ["cold_start", "low_engagement", "low_discovery", "regular"]}, "reason": {"type": "string"},
        "values": {"type": "object", "required": ["songs", "plays", "popularity_percentile", "top_share"], "properties": {
          "songs": {"type": "integer"}, "plays": {"type": "number"}, "popularity_percentile": {"type": "number"}, "top_share": {"type": "number"}}}}},
      "Recommendations": {"type": "object", "required": ["request_id", "user", "known_user", "segment", "policy", "arm", "folded_in_songs", "items"], "properties": {
        "request_id": {"type": "string"}, "user": {"type": "string"}, "known_user": {"type": "boolean"}, "segment": {"$ref": "#/components/schemas/Segment"},
        "policy": {"type": "string"}, "arm": {"type": "string"}, "folded_in_songs": {"type": "integer"},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
      "Preferences": {"type": "object", "additionalProperties": false, "properties": {
        "artists": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 256}},
        "tags": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 256}},
        "songs": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 256}}}},
      "Event": {"type": "object", "additionalProperties": false, "required": ["user", "song"], "properties": {
        "user": {"type": "string", "minLength": 1, "maxLength": 256}, "song": {"type": "string", "minLength": 1, "maxLength": 256},
        "kind": {"type": "string", "enum": ["play", "skip", "like", "dislike"], "default": "play"},
        "plays": {"type": "number", "minimum": 0, "maximum": 1000000000, "description": "Only play events carry plays (default 1)."},
        "timestamp": {"type": "integer", "minimum": 1, "description": "Milliseconds since 1970 (default: now)."},
        "request_id": {"type": "string", "maxLength": 256, "description": "The recommendation list the event came from."}}},
      "Model": {"type": "object", "required": ["id", "kind", "version", "status", "trained_at", "configuration", "metrics"], "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string"}, "version": {"type": "integer"}, "status": {"type": "string", "enum": ["candidate", "active", "retired"]},
        "trained_at": {"type": "integer"}, "activated_at": {"type": "integer"}, "segment": {"type": "string"},
        "configuration": {"type": "object"}, "metrics": {"type": "object"}}}
    }
  },
  "paths": {
    "/healthz": {"get": {"operationId": "healthz", "security": [], "summary": "Liveness.", "responses": {"4XX": {"$ref": "#/components/responses/Error"},
      "200": {"description": "Alive.", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}}}}}}},
    "/readyz": {"get": {"operationId": "readyz", "security": [], "summary": "Ready: models loaded and the database reachable.", "responses": {"4XX": {"$ref": "#/components/responses/Error"},
      "200": {"description": "Ready.", "content": {"application/json": {"schema": {"type": "object", "required": ["status", "snapshot_version", "policies", "users", "songs"], "properties": {
        "status": {"type": "string"}, "snapshot_version": {"type": "integer"}, "policies": {"type": "array", "items": {"type": "string"}},
        "users": {"type": "integer"}, "songs": {"type": "integer"}}}}}},
      "503": {"$ref": "#/components/responses/Error"}}}},
    "/metrics": {"get": {"operationId": "metrics", "security": [], "summary": "Prometheus text.", "responses": {"4XX": {"$ref": "#/components/responses/Error"},
      "200": {"description": "Metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    "/openapi.json": {"get": {"operationId": "openapi", "security": [], "summary": "This document.", "responses": {"4XX": {"$ref": "#/components/responses/Error"},
      "200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/v1/users/{id}/recommendations": {"get": {"operationId": "recommendations", "summary": "A listener's list: their segment's recipe (an unknown user gets the cold-start recipe).",
      "parameters": [{"$ref": "#/components/parameters/ID"}, {"$ref": "#/components/parameters/K"},
                     {"name": "policy", "in": "query", "required": false, "schema": {"type": "string", "maxLength": 100}}],
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "The list.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Recommendations"}}}},
                    "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/v1/onboarding": {"post": {"operationId": "onboarding", "summary": "The cold-start list for a new listener's answers.",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Preferences"}], "type": "object",
        "properties": {"artists": {}, "tags": {}, "songs": {}, "k": {"type": "integer", "minimum": 1, "maximum": 500}}, "additionalProperties": false}}}},
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "The list, and the preferences that matched nothing.", "content": {"application/json": {"schema": {"type": "object",
        "required": ["segment", "policy", "unmatched", "items"], "properties": {"segment": {"$ref": "#/components/schemas/Segment"}, "policy": {"type": "string"},
        "unmatched": {"type": "array", "items": {"type": "string"}}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
    "/v1/songs/{id}/similar": {"get": {"operationId": "similar", "summary": "Songs similar to a song: by co-listening (cf), content embeddings or TF-IDF.",
      "parameters": [{"$ref": "#/components/parameters/ID"}, {"$ref": "#/components/parameters/K"},
                     {"name": "by", "in": "query", "required": false, "schema": {"type": "string", "enum": ["cf", "content", "tfidf"]}}],
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "Similar songs.", "content": {"application/json": {"schema": {"type": "object", "required": ["song", "by", "items"], "properties": {
        "song": {"type": "string"}, "by": {"type": "string"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
    "/v1/playlists/new-songs": {"get": {"operationId": "newSongs", "summary": "The new-song playlist for a listener.",
      "parameters": [{"name": "user", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 256}}, {"$ref": "#/components/parameters/K"}],
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "New songs.", "content": {"application/json": {"schema": {"type": "object", "required": ["user", "items"], "properties": {
        "user": {"type": "string"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
    "/v1/events": {"post": {"operationId": "events", "summary": "Plays, skips, likes and dislikes: all stored, or none when any is invalid.",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["events"], "properties": {
        "events": {"type": "array", "minItems": 1, "maxItems": 10000, "items": {"$ref": "#/components/schemas/Event"}}}}}}},
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "202": {"description": "Accepted and durable.", "content": {"application/json": {"schema": {"type": "object", "required": ["accepted"], "properties": {"accepted": {"type": "integer"}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
    "/v1/songs/{id}": {"put": {"operationId": "putSong", "summary": "Adds or updates a catalogue song; a new song joins the new-song playlist at once.",
      "parameters": [{"$ref": "#/components/parameters/ID"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
        "title": {"type": "string", "maxLength": 1000}, "release": {"type": "string", "maxLength": 1000}, "artist": {"type": "string", "maxLength": 1000},
        "year": {"type": "integer", "minimum": 0, "maximum": 3000}, "tags": {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 200}}}}}}},
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "Stored.", "content": {"application/json": {"schema": {"type": "object", "required": ["song", "stored"], "properties": {
        "song": {"type": "string"}, "stored": {"type": "boolean"}, "served_after": {"type": "string"}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/v1/users/{id}": {"put": {"operationId": "putUser", "summary": "Adds or updates a user with onboarding answers.",
      "parameters": [{"$ref": "#/components/parameters/ID"}],
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Preferences"}}}},
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "Stored.", "content": {"application/json": {"schema": {"type": "object", "required": ["user", "stored"], "properties": {
        "user": {"type": "string"}, "stored": {"type": "boolean"}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/v1/models": {"get": {"operationId": "models", "summary": "The model registry and what the service serves.",
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "Models.", "content": {"application/json": {"schema": {"type": "object", "required": ["models", "snapshot_version", "serving"], "properties": {
        "models": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}, "snapshot_version": {"type": "integer"},
        "serving": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}},
        "401": {"$ref": "#/components/responses/Error"}}}},
    "/v1/models/{id}/activate": {"post": {"operationId": "activate", "summary": "Activates a model and swaps the service onto it without a restart (admin).",
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
      "responses": {"4XX": {"$ref": "#/components/responses/Error"}, "200": {"description": "Activated.", "content": {"application/json": {"schema": {"type": "object", "required": ["model", "snapshot_version"], "properties": {
        "model": {"$ref": "#/components/schemas/Model"}, "snapshot_version": {"type": "integer"}}}}}},
        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}}
  }
}
"""#
}
