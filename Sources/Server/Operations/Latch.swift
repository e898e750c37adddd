import Synchronization

/// A flag that is set once and stays set (the schema is migrated; shutdown has begun).
final class Latch: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() {
        value.store(true, ordering: .releasing)
    }
}
