import Logging
import Testing

@testable import DispatchServer

@Suite("Configuration from environment variables and flags")
struct ConfigurationTests {
    @Test("defaults")
    func defaults() throws {
        let configuration = try ServerConfiguration(arguments: ["dispatch-server"], environment: [:])
        #expect(configuration == ServerConfiguration())
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.driverTTL == .seconds(30))
        #expect(configuration.storage == .memory)
    }

    @Test("environment variables are read, and a flag wins over its variable")
    func environmentAndFlags() throws {
        let configuration = try ServerConfiguration(
            arguments: ["dispatch-server", "--port", "9001", "--driver-ttl-seconds=12"],
            environment: [
                "HOST": "0.0.0.0", "PORT": "9000", "LOG_LEVEL": "DEBUG", "DRIVER_TTL_SECONDS": "45",
                "SHUTDOWN_DELAY_SECONDS": "5",
            ]
        )
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9001)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.driverTTL == .seconds(12))
        #expect(configuration.shutdownDelay == .seconds(5))
    }

    @Test(
        "bad values are a clear error naming the option",
        arguments: [
            (["PORT": "0"], "PORT"),
            (["PORT": "http"], "PORT"),
            (["PORT": "65536"], "PORT"),
            (["LOG_LEVEL": "loud"], "LOG_LEVEL"),
            (["STORAGE": "redis"], "STORAGE"),
            (["STORAGE": "postgres"], "not available yet"),
            (["DRIVER_TTL_SECONDS": "0"], "DRIVER_TTL_SECONDS"),
            (["DRIVER_TTL_SECONDS": "1.5"], "DRIVER_TTL_SECONDS"),
            (["HOST": ""], "HOST"),
        ]
    )
    func badValues(environment: [String: String], mentions: String) {
        #expect {
            try ServerConfiguration(arguments: ["dispatch-server"], environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(mentions) == true
        }
    }

    @Test("an unknown flag is an error, not silently ignored")
    func unknownFlag() {
        #expect(throws: ConfigurationError("unknown option --prot; run with --help to list the options")) {
            try ServerConfiguration(arguments: ["dispatch-server", "--prot", "80"], environment: [:])
        }
    }

    @Test("help lists every option with its variable and flag")
    func help() {
        for option in ServerConfiguration.options {
            #expect(ServerConfiguration.help.contains(option.flag))
            #expect(ServerConfiguration.help.contains(option.environmentVariable))
        }
    }
}
