import JSON
import Store
import XCTest

/// Pod as a typed kind: wire form, schemas, defaults, validation, updates, grace periods,
/// and a pod's life in the store (create, bind, status, graceful and immediate deletion).
final class PodKindTests: XCTestCase {
    // MARK: Wire form

    /// A pod using most of PodSpec, in Kubernetes' field order (maps in byte order).
    static let fullPod = """
    {"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"default","uid":"u-1","resourceVersion":"7",\
    "creationTimestamp":"2026-01-01T00:00:00Z","labels":{"app":"web","tier":"front"},"annotations":{"example.com/note":"hi"},\
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1","uid":"rs-1","controller":true,"blockOwnerDeletion":true}]},\
    "spec":{"volumes":[{"name":"data","emptyDir":{"medium":"Memory","sizeLimit":"1Gi"}},\
    {"name":"config","configMap":{"name":"web-config","items":[{"key":"app.conf","path":"app.conf","mode":420}],"defaultMode":420,"optional":true}},\
    {"name":"certs","secret":{"secretName":"web-tls","defaultMode":256}},\
    {"name":"host","hostPath":{"path":"/var/log","type":"Directory"}},\
    {"name":"claim","persistentVolumeClaim":{"claimName":"pvc-1","readOnly":true}},\
    {"name":"share","nfs":{"server":"10.0.0.5","path":"/exports"}}],\
    "initContainers":[{"name":"init","image":"busybox:1.36","command":["sh","-c","true"],"resources":{},\
    "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"},\
    {"name":"log","image":"fluent-bit:3","resources":{"limits":{"memory":"64Mi"},"requests":{"memory":"64Mi"}},"restartPolicy":"Always",\
    "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],\
    "containers":[{"name":"web","image":"nginx:1.27","command":["nginx"],"args":["-g","daemon off;"],"workingDir":"/srv",\
    "ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"name":"metrics","hostPort":9100,"containerPort":9100,"protocol":"UDP","hostIP":"0.0.0.0"}],\
    "envFrom":[{"prefix":"CFG_","configMapRef":{"name":"web-config","optional":true}},{"secretRef":{"name":"web-secret"}}],\
    "env":[{"name":"MODE","value":"prod"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},\
    {"name":"CPU","valueFrom":{"resourceFieldRef":{"containerName":"web","resource":"limits.cpu","divisor":"1m"}}},\
    {"name":"LEVEL","valueFrom":{"configMapKeyRef":{"name":"web-config","key":"level","optional":false}}},\
    {"name":"TOKEN","valueFrom":{"secretKeyRef":{"name":"web-secret","key":"token"}}}],\
    "resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"250m","memory":"128Mi"}},\
    "volumeMounts":[{"name":"data","mountPath":"/data"},{"name":"config","readOnly":true,"mountPath":"/etc/web","subPath":"conf"},\
    {"name":"claim","readOnly":true,"recursiveReadOnly":"Enabled","mountPath":"/claim","mountPropagation":"None"}],\
    "livenessProbe":{"httpGet":{"path":"/healthz","port":"http","host":"127.0.0.1","scheme":"HTTP","httpHeaders":[{"name":"X-Probe","value":"1"}]},\
    "initialDelaySeconds":5,"timeoutSeconds":2,"periodSeconds":10,"successThreshold":1,"failureThreshold":3,"terminationGracePeriodSeconds":15},\
    "readinessProbe":{"tcpSocket":{"port":8080},"timeoutSeconds":1,"periodSeconds":5,"successThreshold":2,"failureThreshold":3},\
    "startupProbe":{"grpc":{"port":9000,"service":"health"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":30},\
    "lifecycle":{"postStart":{"exec":{"command":["touch","/tmp/started"]}},"preStop":{"sleep":{"seconds":5}}},\
    "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"FallbackToLogsOnError","imagePullPolicy":"IfNotPresent",\
    "securityContext":{"capabilities":{"add":["NET_BIND_SERVICE"],"drop":["ALL"]},"privileged":false,"seLinuxOptions":{"level":"s0:c123,c456"},\
    "runAsUser":1000,"runAsGroup":3000,"runAsNonRoot":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,\
    "procMount":"Default","seccompProfile":{"type":"RuntimeDefault"}},"stdin":true,"tty":true}],\
    "ephemeralContainers":[{"name":"debugger","image":"busybox","targetContainerName":"web"}],\
    "restartPolicy":"Always","terminationGracePeriodSeconds":45,"activeDeadlineSeconds":3600,"dnsPolicy":"None",\
    "nodeSelector":{"disktype":"ssd","kubernetes.io/os":"linux"},"serviceAccountName":"web","serviceAccount":"web",\
    "automountServiceAccountToken":false,"nodeName":"node-1","shareProcessNamespace":true,\
    "securityContext":{"runAsUser":1000,"runAsNonRoot":true,"supplementalGroups":[4000],"fsGroup":2000,\
    "sysctls":[{"name":"net.ipv4.ip_local_port_range","value":"1024 65535"}],"fsGroupChangePolicy":"OnRootMismatch",\
    "seccompProfile":{"type":"Localhost","localhostProfile":"profiles/web.json"}},\
    "imagePullSecrets":[{"name":"registry"}],"hostname":"web-0","subdomain":"web",\
    "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":\
    [{"key":"zone","operator":"In","values":["a","b"]}],"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["node-9"]}]}]},\
    "preferredDuringSchedulingIgnoredDuringExecution":[{"weight":10,"preference":{"matchExpressions":[{"key":"gpu","operator":"Exists"}]}}]},\
    "podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"cache"}},"topologyKey":"kubernetes.io/hostname"}]},\
    "podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"labelSelector":\
    {"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]},"namespaces":["default"],\
    "topologyKey":"topology.kubernetes.io/zone","matchLabelKeys":["pod-template-hash"]}}]}},\
    "schedulerName":"default-scheduler","tolerations":[{"key":"dedicated","operator":"Equal","value":"web","effect":"NoSchedule"},\
    {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":1}],\
    "hostAliases":[{"ip":"10.1.2.3","hostnames":["db.local"]}],"priorityClassName":"high","priority":1000,\
    "dnsConfig":{"nameservers":["10.96.0.10"],"searches":["svc.cluster.local"],"options":[{"name":"ndots","value":"2"},{"name":"edns0"}]},\
    "readinessGates":[{"conditionType":"example.com/ready"}],"runtimeClassName":"runc","enableServiceLinks":false,\
    "preemptionPolicy":"PreemptLowerPriority","overhead":{"cpu":"10m"},\
    "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule",\
    "labelSelector":{"matchLabels":{"app":"web"}},"minDomains":2,"nodeAffinityPolicy":"Honor","nodeTaintsPolicy":"Ignore",\
    "matchLabelKeys":["pod-template-hash"]}],"setHostnameAsFQDN":false,"os":{"name":"linux"},"hostUsers":true,\
    "resourceClaims":[{"name":"gpu","resourceClaimTemplateName":"gpu-template"}]},\
    "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:01:00Z"},\
    {"type":"PodScheduled","status":"True","lastProbeTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z",\
    "reason":"Bound","message":"ok"}],"hostIP":"10.0.0.1","hostIPs":[{"ip":"10.0.0.1"}],"podIP":"10.244.1.5",\
    "podIPs":[{"ip":"10.244.1.5"},{"ip":"fd00::5"}],"startTime":"2026-01-01T00:00:01Z",\
    "initContainerStatuses":[{"name":"init","state":{"terminated":{"exitCode":0,"reason":"Completed",\
    "startedAt":"2026-01-01T00:00:02Z","finishedAt":"2026-01-01T00:00:03Z","containerID":"containerd://abc"}},"lastState":{},\
    "ready":true,"restartCount":0,"image":"busybox:1.36","imageID":"docker.io/library/busybox@sha256:1","containerID":"containerd://abc",\
    "started":false}],"containerStatuses":[{"name":"web","state":{"running":{"startedAt":"2026-01-01T00:00:05Z"}},\
    "lastState":{"terminated":{"exitCode":137,"signal":9,"reason":"OOMKilled","message":"killed",\
    "startedAt":"2026-01-01T00:00:04Z","finishedAt":"2026-01-01T00:00:04Z"}},"ready":true,"restartCount":1,"image":"nginx:1.27",\
    "imageID":"docker.io/library/nginx@sha256:2","containerID":"containerd://def","started":true}],"qosClass":"Burstable"}}
    """

    func testRoundTripKeepsEveryFieldInKubernetesOrder() throws {
        let json = try JSONValue.parse(Self.fullPod)
        var context = DecodeContext()
        let pod = try XCTUnwrap(Pod(json: json, context: &context))
        XCTAssertEqual(context.typeErrors, [])
        XCTAssertEqual(context.unknownFields, [])
        XCTAssertEqual(pod.wireJSON.jsonString, json.jsonString)
        // Typed where it matters.
        let web = pod.spec.containers[0]
        XCTAssertEqual(web.livenessProbe?.handler.httpGet?.port, .string("http"))
        XCTAssertEqual(web.env[2].valueFrom?.resourceFieldRef?.divisor, Quantity("1m"))
        XCTAssertEqual(web.env[3].valueFrom?.configMapKeyRef?.name, "web-config")
        XCTAssertEqual(web.resources.limits["memory"], Quantity("256Mi"))
        XCTAssertEqual(pod.spec.volumes[1].source.configMap?.items, [KeyToPath(key: "app.conf", path: "app.conf")].map {
            var item = $0
            item.mode = 420
            return item
        })
        XCTAssertNotNil(pod.spec.volumes[5].source.nfs, "unsupported sources are kept as sent")
        XCTAssertEqual(pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.count, 1)
        XCTAssertEqual(pod.status.containerStatuses[0].lastState.terminated?.exitCode, 137)
        XCTAssertEqual(pod.spec.ephemeralContainers.count, 1)
    }

    func testEmptyPodWritesItsStructs() {
        XCTAssertEqual(Pod().wireJSON.jsonString, #"{"metadata":{},"spec":{"containers":[]},"status":{}}"#)
        var status = ContainerStatus(name: "a")
        status.image = "x"
        XCTAssertEqual(status.wireJSON.jsonString,
                       #"{"name":"a","state":{},"lastState":{},"ready":false,"restartCount":0,"image":"x","imageID":""}"#)
        var env = EnvVar(name: "X", value: "")
        env.valueFrom = EnvVarSource()
        env.valueFrom?.resourceFieldRef = ResourceFieldSelector()
        XCTAssertEqual(env.wireJSON.jsonString, #"{"name":"X","valueFrom":{"resourceFieldRef":{"resource":"","divisor":"0"}}}"#,
                       "Go writes an unset divisor as \"0\"")
    }

    func testEverySchemaDeclaresUniqueProtobufNumbers() {
        // Building a schema asserts unique names and numbers; walk every struct a Pod and a
        // PodTemplateSpec reach to build them all, and check the numbers again here.
        var seen: Set<String> = []
        func walk(_ shape: WireShape) {
            switch shape {
            case .array(let element), .map(let element): walk(element)
            case .object(let make):
                let schema = make()
                guard seen.insert(schema.definition).inserted else { return }
                let numbers = schema.fields.compactMap(\.number)
                XCTAssertEqual(Set(numbers).count, numbers.count, schema.definition)
                for field in schema.fields { walk(field.shape()) }
            default: break
            }
        }
        walk(Pod.wireShape)
        walk(PodTemplateSpec.wireShape)
        XCTAssertTrue(seen.isSuperset(of: ["io.k8s.api.core.v1.Probe", "io.k8s.api.core.v1.SeccompProfile",
                                           "io.k8s.api.core.v1.ContainerStateTerminated", "io.k8s.api.core.v1.WeightedPodAffinityTerm"]))
        // VolumeSource keeps Kubernetes' numbers; Volume lifts its fields without them.
        let source = VolumeSource.wireInfo.schema
        XCTAssertEqual(Set(source.fields.compactMap(\.number)), Set(1...30))
        XCTAssertEqual(source.field(named: "projected")?.number, 26)
        XCTAssertEqual(source.field(named: "configMap")?.number, 19)
        let volume = Volume.wireInfo.schema
        XCTAssertEqual(volume.field(named: "name")?.number, 1)
        XCTAssertNil(volume.field(named: "nfs")?.number)
        XCTAssertEqual(PodSpec.wireInfo.schema.field(named: "ephemeralContainers")?.number, 34)
        XCTAssertEqual(Container.wireInfo.schema.field(named: "envFrom")?.number, 19)
        XCTAssertEqual(PodStatus.wireInfo.schema.field(named: "hostIPs")?.number, 16)
    }

    func testPatchSemanticsFollowKubernetes() {
        let spec = PodSpec.wireInfo.schema
        XCTAssertEqual(spec.field(named: "containers")?.semantics.mergeKey, "name")
        XCTAssertEqual(spec.field(named: "volumes")?.semantics.retainKeys, true)
        XCTAssertEqual(spec.field(named: "tolerations")?.semantics.listType, "atomic")
        XCTAssertEqual(spec.field(named: "topologySpreadConstraints")?.semantics.mapKeys, ["topologyKey", "whenUnsatisfiable"])
        let container = Container.wireInfo.schema
        XCTAssertEqual(container.field(named: "ports")?.semantics.mergeKey, "containerPort")
        XCTAssertEqual(container.field(named: "ports")?.semantics.mapKeys, ["containerPort", "protocol"])
        XCTAssertEqual(container.field(named: "env")?.semantics.mergeKey, "name")
        XCTAssertEqual(container.field(named: "volumeMounts")?.semantics.mergeKey, "mountPath")
        XCTAssertEqual(PodStatus.wireInfo.schema.field(named: "conditions")?.semantics.mergeKey, "type")
    }

    func testUnknownFieldsAreReported() throws {
        let json = try JSONValue.parse("""
        {"metadata":{"name":"p","colour":"red"},"spec":{"containers":[{"name":"a","image":"x","sise":1,\
        "livenessProbe":{"exec":{"command":["true"]},"periodSecond":3}}],"bogus":true},"status":{}}
        """)
        var context = DecodeContext()
        _ = Pod(json: json, context: &context)
        XCTAssertEqual(context.unknownFields,
                       ["metadata.colour", "spec.containers[0].sise", "spec.containers[0].livenessProbe.periodSecond", "spec.bogus"])
        XCTAssertEqual(context.typeErrors, [])
    }

    func testTypeErrorsNameTheField() throws {
        let json = try JSONValue.parse(#"{"spec":{"containers":[{"name":"a","ports":[{"containerPort":"80"}]}],"hostNetwork":"yes"}}"#)
        var context = DecodeContext()
        _ = Pod(json: json, context: &context)
        XCTAssertEqual(context.typeErrors.map(\.field), ["spec.containers[0].ports[0].containerPort", "spec.hostNetwork"])
    }

    // MARK: Defaults

    func testABarePodGetsKubernetesDefaults() throws {
        var pod = try decode(#"{"metadata":{"name":"bare","namespace":"default"},"spec":{"containers":[{"name":"app","image":"nginx"}]}}"#)
        pod.applyDefaults()
        pod.prepareForCreate()
        XCTAssertEqual(pod.spec.wireJSON.jsonString, """
        {"containers":[{"name":"app","image":"nginx","resources":{},"terminationMessagePath":"/dev/termination-log",\
        "terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,\
        "dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler",\
        "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":1},\
        {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":1}],"enableServiceLinks":true}
        """)
        XCTAssertEqual(pod.status.wireJSON.jsonString, #"{"phase":"Pending","qosClass":"BestEffort"}"#)
        XCTAssertEqual(pod.validate(), [])
    }

    func testImagePullPolicyFollowsTheTag() {
        let cases: [(String, String)] = [
            ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
            ("registry.example.com:5000/team/app", "Always"), ("registry.example.com:5000/team/app:v2", "IfNotPresent"),
            ("localhost:5000/app:latest", "Always"), ("nginx@sha256:" + String(repeating: "a", count: 64), "IfNotPresent"),
            ("nginx:1.27@sha256:" + String(repeating: "b", count: 64), "IfNotPresent"), ("Nginx", "IfNotPresent"),
            ("", "IfNotPresent"), ("busybox:", "IfNotPresent"),
        ]
        for (image, policy) in cases {
            XCTAssertEqual(Container.defaultPullPolicy(forImage: image), policy, image)
        }
        var pod = Pod()
        var container = Container(name: "a", image: "nginx:1.27")
        container.imagePullPolicy = "Never"
        pod.spec.containers = [container]
        pod.applyDefaults()
        XCTAssertEqual(pod.spec.containers[0].imagePullPolicy, "Never", "an explicit policy stays")
    }

    func testContainerProbeVolumeAndEnvDefaults() throws {
        var pod = try decode("""
        {"spec":{"volumes":[{"name":"a"},{"name":"b","secret":{"secretName":"s"}},{"name":"c","configMap":{"name":"m"}},\
        {"name":"d","hostPath":{"path":"/x"}}],"containers":[{"name":"a","image":"x:1","ports":[{"containerPort":80}],\
        "env":[{"name":"N","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],\
        "livenessProbe":{"httpGet":{"port":80}},"readinessProbe":{"grpc":{"port":9000}},\
        "lifecycle":{"preStop":{"httpGet":{"port":80}}},"resources":{"limits":{"cpu":"0.0001","memory":"1Gi"}}}]}}
        """)
        pod.applyDefaults()
        let c = pod.spec.containers[0]
        XCTAssertEqual(c.ports[0].protocol, "TCP")
        XCTAssertEqual(c.env[0].valueFrom?.fieldRef?.apiVersion, "v1")
        XCTAssertEqual(c.livenessProbe?.wireJSON.jsonString,
                       #"{"httpGet":{"path":"/","port":80,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3}"#)
        XCTAssertEqual(c.readinessProbe?.handler.grpc?.service, "")
        XCTAssertEqual(c.lifecycle?.preStop?.httpGet?.path, "/")
        XCTAssertEqual(c.resources.limits["cpu"]?.description, "1m", "amounts round up to thousandths")
        XCTAssertEqual(c.resources.requests, c.resources.limits, "requests default to limits")
        XCTAssertEqual(pod.spec.volumes[0].source.emptyDir, EmptyDirVolumeSource())
        XCTAssertEqual(pod.spec.volumes[1].source.secret?.defaultMode, 420)
        XCTAssertEqual(pod.spec.volumes[2].source.configMap?.defaultMode, 420)
        XCTAssertEqual(pod.spec.volumes[3].source.hostPath?.type, "")
        XCTAssertEqual(pod.spec.volumes[3].wireJSON.jsonString, #"{"name":"d","hostPath":{"path":"/x","type":""}}"#)
    }

    func testHostNetworkPortsAndTemplatesSkipPodOnlyDefaults() throws {
        var pod = try decode(#"{"spec":{"hostNetwork":true,"containers":[{"name":"a","image":"x","ports":[{"containerPort":53},{"containerPort":80,"hostPort":80}]}]}}"#)
        pod.applyDefaults()
        XCTAssertEqual(pod.spec.containers[0].ports.map(\.hostPort), [53, 80])

        var template = PodTemplateSpec()
        var container = Container(name: "a", image: "x")
        container.resources.limits = ["cpu": Quantity("1")!]
        template.spec.containers = [container]
        template.spec.hostNetwork = true
        template.spec.containers[0].ports = [ContainerPort(containerPort: 53)]
        template.applyDefaults()
        XCTAssertEqual(template.spec.restartPolicy, "Always")
        XCTAssertEqual(template.spec.terminationGracePeriodSeconds, 30)
        XCTAssertNil(template.spec.enableServiceLinks, "pods only")
        XCTAssertEqual(template.spec.containers[0].resources.requests, [:], "pods only")
        XCTAssertEqual(template.spec.containers[0].ports[0].hostPort, 0, "pods only")
    }

    func testQoSClassAndRequestTotals() throws {
        func qos(_ resources: String...) throws -> String {
            let containers = resources.enumerated().map { #"{"name":"c\#($0.offset)","image":"x","resources":\#($0.element)}"# }
            var pod = try decode(#"{"spec":{"containers":[\#(containers.joined(separator: ","))]}}"#)
            pod.applyDefaults()
            pod.prepareForCreate()
            return pod.status.qosClass
        }
        XCTAssertEqual(try qos("{}"), "BestEffort")
        XCTAssertEqual(try qos(#"{"limits":{"cpu":"1","memory":"1Gi"}}"#), "Guaranteed")
        XCTAssertEqual(try qos(#"{"limits":{"cpu":"1","memory":"1Gi"}}"#, "{}"), "Burstable")
        XCTAssertEqual(try qos(#"{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"500m"}}"#), "Burstable")
        XCTAssertEqual(try qos(#"{"requests":{"memory":"1Gi"}}"#), "Burstable")
        XCTAssertEqual(try qos(#"{"limits":{"cpu":"1","memory":"1Gi","example.com/gpu":"1"}}"#), "Guaranteed")

        var spec = PodSpec()
        var sidecar = Container(name: "side", image: "x")
        sidecar.restartPolicy = "Always"
        sidecar.resources.requests = ["cpu": Quantity("100m")!, "memory": Quantity("64Mi")!]
        var setup = Container(name: "setup", image: "x")
        setup.resources.requests = ["cpu": Quantity("2")!]
        var main = Container(name: "main", image: "x")
        main.resources.requests = ["cpu": Quantity("500m")!, "memory": Quantity("1Gi")!]
        spec.initContainers = [sidecar, setup]
        spec.containers = [main]
        spec.overhead = ["cpu": Quantity("10m")!]
        // Running: 600m and 1Gi+64Mi; during setup: 2100m. The larger of each, plus overhead.
        XCTAssertEqual(spec.totalRequests, PodResourceAmounts(cpuMilli: 2110, memoryBytes: (1024 + 64) * 1024 * 1024))
        XCTAssertEqual(main.cpuRequestMilli, 500)
        XCTAssertEqual(main.memoryRequestBytes, 1 << 30)
        XCTAssertNil(main.cpuLimitMilli)
    }

    // MARK: Validation

    func testValidationMessages() throws {
        let cases: [(spec: String, expected: [String])] = [
            (#"{"containers":[]}"#, ["spec.containers: Required value"]),
            (#"{"containers":[{"name":"web"}]}"#, ["spec.containers[0].image: Required value"]),
            (#"{"containers":[{"name":"web","image":" nginx"}]}"#,
             [#"spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace"#]),
            (#"{"containers":[{"name":"web","image":"x"}],"initContainers":[{"name":"web","image":"y"}]}"#,
             [#"spec.initContainers[0].name: Duplicate value: "web""#]),
            (#"{"containers":[{"name":"web","image":"x","ports":[{"containerPort":70000,"protocol":"ICMP"},{"name":"HTTP_PORT","containerPort":80},{"name":"http","containerPort":81},{"name":"http","containerPort":82}]}]}"#,
             ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
              #"spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP""#,
              #"spec.containers[0].ports[1].name: Invalid value: "HTTP_PORT": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#,
              #"spec.containers[0].ports[1].name: Invalid value: "HTTP_PORT": must contain at least one letter (a-z)"#,
              #"spec.containers[0].ports[3].name: Duplicate value: "http""#]),
            (#"{"containers":[{"name":"web","image":"x","env":[{"name":"A=B"},{"name":"C","value":"v","valueFrom":{"fieldRef":{"fieldPath":"spec.hostname"}}}]}]}"#,
             [#"spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='"#,
              #"spec.containers[0].env[1].valueFrom: Invalid value: "": may not be specified when `value` is not empty"#,
              #"spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs""#]),
            (#"{"containers":[{"name":"web","image":"x","livenessProbe":{"successThreshold":2,"periodSeconds":-1},"readinessProbe":{"exec":{"command":["true"]},"tcpSocket":{"port":80}}}]}"#,
             ["spec.containers[0].livenessProbe: Required value: must specify a handler type",
              "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
              "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
              "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"]),
            (#"{"containers":[{"name":"web","image":"x"}],"restartPolicy":"Sometimes","dnsPolicy":"Weird"}"#,
             [#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#,
              #"spec.dnsPolicy: Unsupported value: "Weird": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None""#]),
            (#"{"containers":[{"name":"web","image":"x","resources":{"limits":{"cpu":"1","foo":"1"},"requests":{"cpu":"2","memory":"-1"}}}]}"#,
             [#"spec.containers[0].resources.limits[foo]: Invalid value: "foo": must be a standard resource for containers"#,
              #"spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1"#,
              #"spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard resource for containers"#,
              #"spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0"#]),
            (#"{"volumes":[{"name":"data"},{"name":"data"},{"name":"share","nfs":{"server":"s","path":"/"}},{"name":"two","emptyDir":{},"secret":{"secretName":"s"}}],"containers":[{"name":"web","image":"x","volumeMounts":[{"name":"missing","mountPath":"/m"}]}]}"#,
             [#"spec.volumes[1].name: Duplicate value: "data""#,
              "spec.volumes[2].nfs: Forbidden: nfs volumes are not supported by shoal",
              "spec.volumes[3].secret: Forbidden: may not specify more than 1 volume type",
              #"spec.containers[0].volumeMounts[0].name: Not found: "missing""#]),
            (#"{"containers":[{"name":"web","image":"x"}],"nodeSelector":{"bad key":"v"},"tolerations":[{"key":"k","operator":"Maybe","effect":"Never"}],"terminationGracePeriodSeconds":-5}"#,
             [#"spec.nodeSelector: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')"#,
              #"spec.tolerations[0].operator: Unsupported value: "Maybe": supported values: "Equal", "Exists""#,
              #"spec.tolerations[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute""#,
              "spec.terminationGracePeriodSeconds: Invalid value: -5: must be greater than or equal to 0"]),
            (#"{"containers":[{"name":"web","image":"x","restartPolicy":"Always"}],"initContainers":[{"name":"init","image":"x","restartPolicy":"Never","livenessProbe":{"exec":{"command":["true"]}}}]}"#,
             ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
              #"spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always""#,
              "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"]),
            (#"{"containers":[{"name":"web","image":"x","ports":[{"containerPort":80,"hostPort":8080}]},{"name":"b","image":"x","ports":[{"containerPort":81,"hostPort":8080}]}],"hostNetwork":true}"#,
             ["spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true",
              "spec.containers[1].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true",
              #"spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080""#]),
            (#"{"containers":[{"name":"web","image":"x"}],"dnsPolicy":"None","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}},"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":0,"podAffinityTerm":{"topologyKey":""}}]}}}"#,
             ["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
              "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term",
              "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100",
              "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey: Required value: can not be empty"]),
        ]
        for (spec, expected) in cases {
            XCTAssertEqual(try errors(spec), expected, spec)
        }
    }

    func testContainerNamesAreDNSLabels() throws {
        let found = try errors(#"{"containers":[{"name":"Web","image":"x"},{"image":"y"}]}"#)
        XCTAssertEqual(found.count, 2)
        XCTAssertTrue(found[0].hasPrefix(#"spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label"#), found[0])
        XCTAssertEqual(found[1], "spec.containers[1].name: Required value")
    }

    func testEveryUnsupportedVolumeSourceIsRefusedByName() throws {
        for (name, _) in [("gcePersistentDisk", 3), ("projected", 26), ("csi", 28), ("ephemeral", 29), ("downwardAPI", 16)] {
            let found = try errors(#"{"volumes":[{"name":"v","\#(name)":{}}],"containers":[{"name":"a","image":"x"}]}"#)
            XCTAssertEqual(found, ["spec.volumes[0].\(name): Forbidden: \(name) volumes are not supported by shoal"])
        }
    }

    func testTemplateValidationUsesTheTemplatePath() throws {
        var context = DecodeContext()
        var template = try XCTUnwrap(PodTemplateSpec(json: try JSONValue.parse("""
        {"metadata":{"labels":{"app":"web!"}},"spec":{"containers":[{"name":"web"}],"ephemeralContainers":[{"name":"d"}]}}
        """), context: &context))
        template.applyDefaults()
        let found = template.validate(at: "spec.template").map(\.description)
        XCTAssertEqual(found.count, 3)
        XCTAssertTrue(found[0].hasPrefix(#"spec.template.metadata.labels: Invalid value: "web!": a valid label must"#), found[0])
        XCTAssertEqual(Array(found.dropFirst()), [
            "spec.template.spec.containers[0].image: Required value",
            "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
        ])
        // Whitespace around an image is refused in pods only.
        template.spec.containers[0].image = "nginx "
        template.spec.ephemeralContainers = []
        template.metadata.labels = [:]
        XCTAssertEqual(template.validate(at: "spec.template"), [])
    }

    // MARK: Updates

    func testUpdatesMayChangeOnlyImagesDeadlineTolerationsAndMendedGrace() throws {
        var old = try decode(#"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"x:1"}],"initContainers":[{"name":"i","image":"y:1"}],"activeDeadlineSeconds":100}}"#)
        old.applyDefaults()
        old.prepareForCreate()

        var images = old
        images.spec.containers[0].image = "x:2"
        images.spec.initContainers[0].image = "y:2"
        images.spec.activeDeadlineSeconds = 50
        images.spec.tolerations.append(Toleration(key: "k", operator: "Exists"))
        images.spec.tolerations[0].tolerationSeconds = 10
        XCTAssertEqual(images.validateUpdate(from: old), [])

        var longer = old
        longer.spec.activeDeadlineSeconds = 200
        XCTAssertEqual(longer.validateUpdate(from: old).map(\.description),
                       ["spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"])
        longer.spec.activeDeadlineSeconds = nil
        XCTAssertEqual(longer.validateUpdate(from: old).map(\.description),
                       ["spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"])

        var removed = old
        removed.spec.tolerations.removeFirst()
        XCTAssertEqual(removed.validateUpdate(from: old).map(\.description),
                       ["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"])

        var moved = old
        moved.spec.hostNetwork = true
        moved.spec.containers[0].ports = [ContainerPort(containerPort: 80, protocol: "TCP")]
        let found = moved.validateUpdate(from: old)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.field, "spec")
        XCTAssertEqual(found.first?.kind, .forbidden)
        XCTAssertTrue(found.first?.detail.hasPrefix("pod updates may not change fields other than `spec.containers[*].image`,") == true)
        XCTAssertTrue(found.first?.detail.hasSuffix("changed: spec.containers, spec.hostNetwork") == true, found.first?.detail ?? "")

        var negative = old
        negative.spec.terminationGracePeriodSeconds = -1
        var mended = negative
        mended.spec.terminationGracePeriodSeconds = 1
        XCTAssertEqual(mended.validateUpdate(from: negative), [])
        mended.spec.terminationGracePeriodSeconds = 2
        XCTAssertEqual(mended.validateUpdate(from: negative).map(\.field), ["spec"])
    }

    // MARK: Deletion

    func testGracePeriods() throws {
        var pod = try decode(#"{"spec":{"containers":[{"name":"a","image":"x"}]}}"#)
        pod.applyDefaults()
        XCTAssertEqual(pod.gracePeriod(requested: nil), 0, "unscheduled pods go at once")
        XCTAssertEqual(pod.gracePeriod(requested: 60), 0)
        pod.spec.nodeName = "node-1"
        XCTAssertEqual(pod.gracePeriod(requested: nil), 30)
        XCTAssertEqual(pod.gracePeriod(requested: 5), 5)
        XCTAssertEqual(pod.gracePeriod(requested: 0), 0)
        pod.spec.terminationGracePeriodSeconds = 45
        XCTAssertEqual(pod.gracePeriod(requested: nil), 45)
        pod.spec.terminationGracePeriodSeconds = -3
        XCTAssertEqual(pod.gracePeriod(requested: nil), 1, "a negative period counts as 1")
        pod.spec.terminationGracePeriodSeconds = nil
        XCTAssertEqual(pod.gracePeriod(requested: nil), 30)
        pod.status.phase = PodStatus.succeeded
        XCTAssertEqual(pod.gracePeriod(requested: 10), 0, "finished pods go at once")
    }

    // MARK: Accessors and registration

    func testAccessorsAndFieldLabels() throws {
        let pod = try decode(Self.fullPod)
        XCTAssertTrue(pod.isReady)
        XCTAssertTrue(pod.isScheduled)
        XCTAssertFalse(pod.isTerminal)
        XCTAssertEqual(pod.condition(PodCondition.podScheduled)?.reason, "Bound")
        XCTAssertEqual(pod.containerStatus(named: "init")?.state.terminated?.reason, "Completed")
        XCTAssertEqual(pod.spec.allContainers.map(\.name), ["init", "log", "web"])
        XCTAssertTrue(pod.spec.initContainers[1].isSidecar)
        XCTAssertTrue(pod.spec.tolerations[1].tolerates(Taint(key: Taint.notReadyKey, effect: Taint.noExecute)))
        XCTAssertFalse(pod.spec.tolerations[0].tolerates(Taint(key: "dedicated", value: "db", effect: Taint.noSchedule)))

        let kind = Kind.pod
        XCTAssertEqual(Kind.named("Pod")?.plural, "pods")
        XCTAssertEqual(kind.shortNames, ["po"])
        XCTAssertEqual(kind.categories, ["all"])
        XCTAssertEqual(kind.subresources, [.status, .binding])
        let json = try JSONValue.parse(Self.fullPod)
        let labels = kind.fieldLabels.mapValues { $0(json) }
        XCTAssertEqual(labels, ["spec.nodeName": "node-1", "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
                                "spec.serviceAccountName": "web", "spec.hostNetwork": "false", "status.phase": "Running",
                                "status.podIP": "10.244.1.5", "status.nominatedNodeName": ""])
    }

    // MARK: Helpers

    private func decode(_ text: String) throws -> Pod {
        var context = DecodeContext()
        let pod = try XCTUnwrap(Pod(json: try JSONValue.parse(text), context: &context))
        XCTAssertEqual(context.typeErrors, [])
        XCTAssertEqual(context.unknownFields, [])
        return pod
    }

    /// The validation errors of a pod with `spec`, after defaults and create preparation.
    private func errors(_ spec: String) throws -> [String] {
        var pod = try decode(#"{"metadata":{"name":"p","namespace":"default"},"spec":\#(spec)}"#)
        pod.applyDefaults()
        pod.prepareForCreate()
        return pod.validate().map(\.description)
    }
}
