// Dashboard sessions: with API keys on, a person gives a key once on /login and gets a session
// cookie (HttpOnly, SameSite=Strict, Secure behind a TLS proxy), valid for 12 hours; the session
// holds the key's role and a CSRF token that every form posts back. With --no-auth a session is
// made on the first page (admin role) so forms still carry a CSRF token. Sessions live in memory:
// a restart asks for the key again. At most 10,000 sessions; the oldest expire first.
import EncoreStore
import Foundation
import Synchronization

struct DashboardSession: Sendable {
    var id: String
    var role: APIRole
    var csrf: String
    var expires: Date
}

final class DashboardSessions: Sendable {
    static let cookie = "encore_session"
    static let lifetime: TimeInterval = 12 * 3600
    let sessions = Mutex<[String: DashboardSession]>([:])

    static func token() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    func create(role: APIRole) -> DashboardSession {
        let s = DashboardSession(id: Self.token(), role: role, csrf: Self.token(), expires: Date().addingTimeInterval(Self.lifetime))
        sessions.withLock { all in
            let now = Date()
            all = all.filter { $0.value.expires > now }
            if all.count >= 10_000, let oldest = all.min(by: { $0.value.expires < $1.value.expires })?.key { all[oldest] = nil }
            all[s.id] = s
        }
        return s
    }

    func session(_ id: String?) -> DashboardSession? {
        guard let id, id.count == 64 else { return nil }
        return sessions.withLock { all in
            guard let s = all[id] else { return nil }
            guard s.expires > Date() else { all[id] = nil; return nil }
            return s
        }
    }

    func end(_ id: String?) {
        guard let id else { return }
        sessions.withLock { $0[id] = nil }
    }

    /// The cookie's value in a Cookie header.
    static func cookieValue(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces)
            if kv.hasPrefix(cookie + "=") { return String(kv.dropFirst(cookie.count + 1)) }
        }
        return nil
    }

    static func setCookie(_ s: DashboardSession, secure: Bool) -> String {
        "\(cookie)=\(s.id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(lifetime))" + (secure ? "; Secure" : "")
    }

    /// Constant-time comparison of a posted CSRF token with the session's.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var diff: UInt8 = 0
        for (p, q) in zip(x, y) { diff |= p ^ q }
        return diff == 0
    }
}
