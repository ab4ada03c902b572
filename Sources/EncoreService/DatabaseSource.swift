// A database wherever a dataset path goes: `encore eda encore.db`, `--data postgres://…`. The
// stored play counts and catalogue come back as a Dataset (StoreWorkflows' training read).
import EncoreData
import EncoreStore
import Foundation

public enum DatabaseSource {
    /// A postgres:// URL, or a file that starts with SQLite's header.
    public static func isDatabase(_ path: String) -> Bool { Stores.isDatabase(path) }

    /// The stored plays and catalogue (the schema must be current; nothing is written).
    public static func load(_ location: String) throws -> Dataset {
        try waitFor {
            let store = try await Stores.open(location, migrate: false)
            do {
                let d = try await store.trainingData()
                try await store.close()
                return d
            } catch {
                try? await store.close()
                throw error
            }
        }
    }
}
