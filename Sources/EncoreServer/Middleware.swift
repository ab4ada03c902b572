// The service's middleware: every error as `{"error": {"code", "message"}}` with the right status
// (no stack trace ever reaches a client; an unexpected error is a logged 500), a request id on
// every response, request metrics per route and status, and API keys with roles.
import EncoreService
import EncoreStore
import Foundation
import Hummingbird
import Logging
import Synchronization

/// An error response: status, stable code, message, and per-item details for batches.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var details: [(index: Int, message: String)] = []

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: Any] = ["code": code, "message": message]
        if !details.isEmpty { error["details"] = details.map { ["index": $0.index, "message": $0.message] as [String: Any] } }
        let data = try JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as ServiceError:
            switch e.kind {
            case .badRequest: return APIError(status: .badRequest, code: "bad_request", message: e.message, details: e.details)
            case .notFound: return APIError(status: .notFound, code: "not_found", message: e.message)
            case .conflict: return APIError(status: .conflict, code: "conflict", message: e.message)
            case .unavailable: return APIError(status: .serviceUnavailable, code: "unavailable", message: e.message)
            }
        case let e as StoreError:
            switch e {
            case .notFound(let m): return APIError(status: .notFound, code: "not_found", message: m)
            case .badInput(let m): return APIError(status: .badRequest, code: "bad_request", message: m)
            case .conflict(let m): return APIError(status: .conflict, code: "conflict", message: m)
            default: return APIError(status: .serviceUnavailable, code: "unavailable", message: "the database is not available")
            }
        case let e as any HTTPResponseError:
            let code = e.status == .notFound ? "not_found" : (e.status == .methodNotAllowed ? "method_not_allowed" : (e.status.code == 413 ? "too_large" : "bad_request"))
            let message = e.status == .notFound ? "no such route" : (e.status.code == 413 ? "the body is too large" : "\(e.status.reasonPhrase)")
            return APIError(status: e.status, code: code, message: message)
        default:
            return APIError(status: .internalServerError, code: "internal", message: "internal error")
        }
    }
}

/// JSON errors, request ids and metrics around every request.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServiceMetrics
    let live: LiveStats

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let id = request.headers[.init("X-Request-ID")!].flatMap { $0.count <= 128 ? $0 : nil } ?? context.id
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let e = APIError.from(error)
            if e.status == .internalServerError { context.logger.error("request failed", metadata: ["request_id": "\(id)", "error": "\(String(reflecting: error))"]) }
            response = try e.response(from: request, context: context)
        }
        response.headers[.init("X-Request-ID")!] = id
        let took = start.duration(to: .now)
        metrics.record(route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code, seconds: took)
        live.record(milliseconds: Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15)
        return response
    }
}

/// Bearer API keys: read for GETs, write for events and upserts, admin for activation. Verified
/// secrets are cached for 30 seconds, so a revoked key stops working within that time.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let store: any Store
    let enabled: Bool
    let cache = KeyCache()

    static func required(method: HTTPRequest.Method, path: String) -> APIRole? {
        guard path.hasPrefix("/v1/") else { return nil }
        if path.hasPrefix("/v1/models/") && path.hasSuffix("/activate") { return .admin }
        switch method {
        case .get, .head: return .read
        case .post where path == "/v1/onboarding": return .read
        default: return .write
        }
    }

    static func allows(_ role: APIRole, _ needed: APIRole) -> Bool {
        let rank: [APIRole: Int] = [.read: 0, .write: 1, .admin: 2]
        return rank[role, default: -1] >= rank[needed, default: 3]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard enabled, let needed = Self.required(method: request.method, path: request.uri.path) else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count < 512 else {
            throw APIError(status: .unauthorized, code: "unauthorized", message: "send an API key: Authorization: Bearer KEY")
        }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        let role: APIRole
        if let cached = cache.role(for: secret) { role = cached } else {
            guard let key = try await store.authenticate(secret: secret) else {
                throw APIError(status: .unauthorized, code: "unauthorized", message: "the API key is not valid")
            }
            cache.remember(secret, role: key.role)
            role = key.role
        }
        guard Self.allows(role, needed) else {
            throw APIError(status: .forbidden, code: "forbidden", message: "this needs a \(needed.rawValue) key; yours is \(role.rawValue)")
        }
        return try await next(request, context)
    }
}

/// Verified secrets and their roles, for 30 seconds.
final class KeyCache: Sendable {
    let entries = Mutex<[String: (role: APIRole, until: ContinuousClock.Instant)]>([:])

    func role(for secret: String) -> APIRole? {
        entries.withLock { e in
            guard let hit = e[secret], hit.until > .now else { e[secret] = nil; return nil }
            return hit.role
        }
    }

    func remember(_ secret: String, role: APIRole) {
        entries.withLock { e in
            if e.count > 10_000 { e.removeAll() }
            e[secret] = (role, .now + .seconds(30))
        }
    }
}
