import Foundation
import Hummingbird

/// The request context of every route: Hummingbird's basic context with JSON written in a stable key
/// order, so answers are easy to read, diff and document.
struct DispatchRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    var responseEncoder: JSONEncoder { JSONBody.encoder }
}
