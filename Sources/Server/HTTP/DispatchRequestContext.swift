import Foundation
import Hummingbird
import HummingbirdAuth

/// The request context of every route: Hummingbird's basic context with JSON written in a stable key
/// order, so answers are easy to read, diff and document, and the caller its bearer token proves
/// (`BearerAuthenticator`).
struct DispatchRequestContext: AuthRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The verified caller; nil only on the probes, which need no token.
    var identity: Caller?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }

    var responseEncoder: JSONEncoder { JSONBody.encoder }
}
