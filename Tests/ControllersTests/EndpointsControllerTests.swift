@testable import Controllers
import Store
import XCTest

final class EndpointsControllerTests: XCTestCase {
    func service(targetPort: IntOrString = .string("http"), selector: [String: String] = ["app": "web"]) -> Service {
        var service = Service()
        service.kind = "Service"
        service.apiVersion = "v1"
        service.metadata.name = "web"
        service.metadata.namespace = "default"
        service.spec.selector = selector
        service.spec.ports = [ServicePort(name: "http", port: 80, targetPort: targetPort, protocol: "TCP")]
        return service
    }

    func pod(_ name: String, ip: String, ready: Bool, terminating: Bool = false, app: String = "web") -> Pod {
        var pod = Fixture.pod(name, node: "n1", phase: PodStatus.running, ready: ready, labels: ["app": app])
        pod.status.podIP = ip
        var port = ContainerPort(containerPort: 8080, name: "http")
        port.protocol = "TCP"
        pod.spec.containers[0].ports = [port]
        if terminating { pod.metadata.deletionTimestamp = MetaTime(unixSeconds: 1) }
        return pod
    }

    func testReadyPodsAreAddressesAndTheOthersApartWithNamedPortsResolved() throws {
        let pods = [pod("a", ip: "10.244.1.2", ready: true), pod("b", ip: "10.244.2.2", ready: false),
                    pod("c", ip: "10.244.3.2", ready: true, terminating: true), pod("other", ip: "10.244.1.9", ready: true, app: "db"),
                    pod("no-ip", ip: "", ready: false)]
        let writes = EndpointsController.reconcile(service(), pods: pods, endpoints: nil, slice: nil)
        XCTAssertEqual(writes.map(\.write.verb), [.create, .create])
        let endpoints = try XCTUnwrap(Endpoints(stored: writes[0].write.body!))
        XCTAssertEqual(endpoints.subsets.count, 1)
        XCTAssertEqual(endpoints.subsets[0].addresses.map(\.ip), ["10.244.1.2"])
        XCTAssertEqual(endpoints.subsets[0].notReadyAddresses.map(\.ip), ["10.244.2.2"])
        XCTAssertEqual(endpoints.subsets[0].ports.map(\.port), [8080])
        XCTAssertEqual(endpoints.subsets[0].addresses[0].targetRef?.name, "a")

        let slice = try XCTUnwrap(EndpointSlice(stored: writes[1].write.body!))
        XCTAssertEqual(slice.metadata.labels["kubernetes.io/service-name"], "web")
        XCTAssertEqual(slice.ports.first?.port, 8080)
        XCTAssertEqual(slice.endpoints.map { $0.addresses[0] }, ["10.244.1.2", "10.244.2.2", "10.244.3.2"])
        XCTAssertEqual(slice.endpoints.map(\.conditions.ready), [true, false, false])
        XCTAssertEqual(slice.endpoints.map(\.conditions.terminating), [false, false, true])
    }

    func testNothingIsWrittenWhenCurrentAndUpdatesAreConditional() throws {
        let pods = [pod("a", ip: "10.244.1.2", ready: true)]
        let first = EndpointsController.reconcile(service(targetPort: .int(8080)), pods: pods, endpoints: nil, slice: nil)
        var endpoints = try XCTUnwrap(Endpoints(stored: first[0].write.body!))
        var slice = try XCTUnwrap(EndpointSlice(stored: first[1].write.body!))
        endpoints.metadata.resourceVersion = "20"
        slice.metadata.resourceVersion = "21"
        XCTAssertTrue(EndpointsController.reconcile(service(targetPort: .int(8080)), pods: pods, endpoints: endpoints, slice: slice).isEmpty)
        let moved = EndpointsController.reconcile(service(targetPort: .int(8080)), pods: pods + [pod("b", ip: "10.244.2.2", ready: true)],
                                                  endpoints: endpoints, slice: slice)
        XCTAssertEqual(moved.map(\.write.verb), [.update, .update])
        XCTAssertEqual(moved.map(\.write.expectedResourceVersion), [20, 21])
    }

    func testAServiceWithoutASelectorIsLeftAlone() {
        XCTAssertTrue(EndpointsController.reconcile(service(selector: [:]), pods: [pod("a", ip: "10.244.1.2", ready: true)],
                                                    endpoints: nil, slice: nil).isEmpty)
    }
}
