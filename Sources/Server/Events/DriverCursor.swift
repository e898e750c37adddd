/// Where a driver's app is in the driver's own sequence of events: `<run>-<number>`, e.g. `k2x9a1-42`.
///
/// Sent with every event on the driver channel and as the `id:` of the driver's event stream; an app
/// that reconnects with it (`?after=` on the channel, `Last-Event-ID` on the stream) gets the events
/// it missed, when they are still kept. A cursor from before a restart names another run and resumes
/// nothing: the app then starts from the snapshot the channel sends.
struct DriverCursor: Hashable, Sendable, CustomStringConvertible {
    /// The process run that numbered the event.
    let epoch: String
    /// The event's number in the driver's sequence (0: before the first).
    let number: UInt64

    init(epoch: String, number: UInt64) {
        self.epoch = epoch
        self.number = number
    }

    /// Parses `<run>-<number>`; nil for anything else.
    init?(_ text: some StringProtocol) {
        guard text.utf8.count <= 64, let dash = text.lastIndex(of: "-"),
            let number = UInt64(text[text.index(after: dash)...])
        else { return nil }
        let epoch = String(text[..<dash])
        guard !epoch.isEmpty, epoch.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "-") }) else { return nil }
        self.init(epoch: epoch, number: number)
    }

    var description: String { "\(epoch)-\(number)" }
}

/// A driver's subscription: its events (missed ones first, when resuming), then live.
struct DriverSubscription: Sendable {
    let stream: AsyncStream<StreamItem>
    /// Whether the stream continues exactly after the cursor asked for.
    let resumed: Bool
    /// The driver's latest event when the subscription began.
    let latest: DriverCursor
}
