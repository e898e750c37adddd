/// What this build is: `dispatch-server --version`, and `dispatch_build_info{version}` on `/metrics`.
/// Kept equal to `openapi.yaml`'s `info.version` and the load test's (scripts/smoke-test checks).
enum BuildInfo {
    static let version = "0.10.0"
}
