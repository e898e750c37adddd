import Hummingbird

/// Admission control for the requests the router serves: asks `AdmissionControl` about each request
/// and answers a shed one `503 overloaded` with `Retry-After` before any work is done for it. (Location
/// reports answered at the edge are decided there, by the same control.)
struct AdmissionMiddleware<Context: RequestContext>: RouterMiddleware {
    let admission: AdmissionControl

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let requestClass = RequestClass(
            isPost: request.method == .post,
            isPut: request.method == .put,
            path: request.uri.path[...]
        )
        // A connection over `MAX_CONNECTIONS` gets one answer, then closes (`ConnectionBudget`); probes
        // are still answered, so an operator sees a crowded service rather than a dead one.
        if requestClass != .operations,
            request.headers.contains(where: { $0.name.canonicalName == ConnectionBudget.overBudgetHeader })
        {
            throw admission.shedOverBudget(requestClass)
        }
        if let reason = admission.shedReason(for: requestClass) { throw admission.shedError(reason) }
        return try await next(request, context)
    }
}
