import DispatchCore
import Testing

@Suite("DriverID validation")
struct DriverIDTests {
    @Test("valid IDs", arguments: ["a", "D-1", "driver_42", String(repeating: "x", count: 64), "ABC-def_123"])
    func valid(raw: String) throws {
        #expect(try DriverID(raw).rawValue == raw)
    }

    @Test(
        "invalid IDs are a clear error",
        arguments: [
            "", String(repeating: "x", count: 65), "has space", "slash/", "dot.", "ümlaut", "emoji🚕", "semi;colon",
        ]
    )
    func invalid(raw: String) {
        #expect {
            try DriverID(raw)
        } throws: { error in
            (error as? DispatchError)?.code == .invalidDriverID
        }
    }

    @Test("IDs order by their bytes")
    func ordering() throws {
        #expect(try DriverID("A") < DriverID("B"))
        #expect(try DriverID("Z") < DriverID("a"))
        #expect(try DriverID("a1") < DriverID("a10"))
        #expect(try !(DriverID("b") < DriverID("b")))
    }
}
