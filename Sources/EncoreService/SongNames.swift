// External song ids to the names people read: a dataset's catalogue looked up by id, so a model's
// item index, its id and its title stay together on every list a command or a page shows.
import EncoreData

/// Titles of songs by external id.
public struct SongNames: Sendable {
    let catalog: Catalog
    let items: IDMap

    public init(_ dataset: Dataset) {
        catalog = dataset.catalog
        items = dataset.interactions.items
    }

    /// The display name of `id` ("Title — Artist"), or "" when the catalogue does not know it.
    public func title(of id: String) -> String {
        guard let j = items.index(of: id) else { return "" }
        return catalog.displayName(j, fallback: id)
    }
}
