// `encore serve`: the recommendation service over HTTP (Hummingbird 2). JSON under /v1, API keys
// with roles, JSON errors, input limits, Prometheus metrics, the OpenAPI document, and graceful
// shutdown on SIGTERM/SIGINT through swift-service-lifecycle (Hummingbird's runService), and the
// dashboard's pages at / (Dashboard.swift). Every
// algorithm lives below: this module parses, checks, calls RecommendationService and renders.
import EncoreData
import EncoreModels
import EncorePolicy
import EncoreService
import EncoreStore
import Foundation
import Hummingbird
import Logging

/// How the server listens and what it accepts.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Without keys: for local demos only; refused on a non-loopback host.
    public var requireKeys = true
    public var maxBodyBytes = 4 << 20
    public var maxBatch = 10_000
    public init() {}

    public func validate() throws {
        guard (1...65_535).contains(port) || port == 0 else { throw ServiceError(.badRequest, "--port must be between 1 and 65535") }
        if !requireKeys, !["127.0.0.1", "localhost", "::1"].contains(host) {
            throw ServiceError(.badRequest, "--no-auth is for local demos only: it is refused on \(host); listen on 127.0.0.1 or use API keys")
        }
    }
}

/// The Hummingbird application of the service.
public enum EncoreServer {
    /// The router with every route and middleware; `makeApplication` serves it.
    public static let version = "0.1.0"

    public static func makeRouter(service: RecommendationService, configuration: ServerConfiguration) throws -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let metrics = ServiceMetrics()
        let live = LiveStats(counters: { service.counterValues })
        router.add(middleware: ErrorMiddleware(metrics: metrics, live: live))
        router.add(middleware: AuthMiddleware(store: service.store, enabled: configuration.requireKeys))
        Routes(service: service, configuration: configuration, metrics: metrics).register(on: router)
        try Dashboard(service: service, configuration: configuration, live: live).register(on: router)
        return router
    }

    public static func makeApplication(service: RecommendationService, configuration: ServerConfiguration, logger: Logger) throws -> some ApplicationProtocol {
        try configuration.validate()
        return Application(router: try makeRouter(service: service, configuration: configuration),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "encore"),
                           logger: logger)
    }
}
