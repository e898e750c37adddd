#if canImport(Glibc)
import Glibc
#endif
// A static build finds `timespec` through CoreFoundation; a dynamic one through Glibc.
#if canImport(CoreFoundation)
import CoreFoundation
#endif

/// The calling thread's CPU time: what a piece of work costs where it runs, whatever else the process
/// does meanwhile (the console's `dispatch_console_cpu_seconds_total`).
enum ThreadCPUTime {
    /// Seconds of CPU this thread has used (0 where it cannot be read).
    static func seconds() -> Double {
        #if os(Linux)
        var spec = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return 0 }
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
        #else
        return 0
        #endif
    }
}
