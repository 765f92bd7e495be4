import Foundation
import XCTest

@testable import API
import JSON

final class APIClusterRoutesTests: XCTestCase {
    func testClusterRoutesCallTheMember() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        XCTAssertEqual(try fixture.send("GET", "/shoal/v1/status").json, ["member": "fake-1", "leader": true])
        XCTAssertEqual(try fixture.send("GET", "/shoal/v1/members").json, [["name": "fake-1", "role": "voter"]])
        XCTAssertEqual(try fixture.send("GET", "/shoal/v1/token").json, ["token": "join-token-123"])
        XCTAssertEqual(try fixture.send("POST", "/shoal/v1/init").json, ["token": "join-token-123"])

        let join = try fixture.send("POST", "/shoal/v1/join", body: #"{"endpoint":"10.0.0.1:7443","token":"t0k"}"#)
        XCTAssertEqual(join.status, 409)
        XCTAssertEqual(join.json?["reason"], "AlreadyClustered")
        XCTAssertEqual(join.json?["message"], "this agent already belongs to a cluster")
        for bad in ["", "{", "[]", #"{"endpoint":"10.0.0.1:7443"}"#, #"{"endpoint":7,"token":"t"}"#] {
            XCTAssertEqual(try fixture.send("POST", "/shoal/v1/join", body: bad).status, 400, bad)
        }

        XCTAssertEqual(try fixture.send("POST", "/shoal/v1/members", body: #"{"name":"host-b","host":"10.0.0.2"}"#).status, 200)
        XCTAssertEqual(try fixture.send("POST", "/shoal/v1/members", body: "nope").status, 400)
        XCTAssertEqual(try fixture.send("DELETE", "/shoal/v1/members/host-b").json, ["removed": "host-b"])
        XCTAssertEqual(try fixture.send("POST", "/shoal/v1/leave").json, ["left": "fake-1"])
        XCTAssertEqual(fixture.onLoop { $0.clusterCalls },
                       ["init", "join 10.0.0.1:7443 t0k", "admit host-b on fake-1", "remove host-b on fake-1", "leave"])

        XCTAssertEqual(try fixture.send("DELETE", "/shoal/v1/status").status, 405)
        XCTAssertEqual(try fixture.send("GET", "/shoal/v1/members/host-b").status, 405)
        fixture.onLoop { $0.token = nil }
        let none = try fixture.send("GET", "/shoal/v1/token")
        XCTAssertEqual(none.status, 404)
        XCTAssertEqual(none.json?["reason"], "NotFound")
    }
}
