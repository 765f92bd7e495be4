/// A mark on a node that repels pods without a matching toleration (core/v1 Taint).
public struct Taint: WireStruct, Hashable {
    public var key = ""
    public var value = ""
    public var effect = ""
    public var timeAdded: MetaTime?

    public init() {}

    public init(key: String, value: String = "", effect: String, timeAdded: MetaTime? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }

    public static let wireInfo = WireStructInfo<Taint>(
        "io.k8s.api.core.v1.Taint", "A mark on a node that pods must tolerate to be placed or stay there.",
        [
            .always("key", 1, \.key, "The taint's key (a qualified name)."),
            .omitEmpty("value", 2, \.value, "The taint's value (a label value)."),
            .always("effect", 3, \.effect,
                    "NoSchedule (no new pods), PreferNoSchedule (avoid placing pods) or NoExecute (also evict running ones)."),
            .optional("timeAdded", 4, \.timeAdded, "When a NoExecute taint was added."),
        ])

    /// The effects a taint may have.
    public static let noSchedule = "NoSchedule"
    public static let preferNoSchedule = "PreferNoSchedule"
    public static let noExecute = "NoExecute"
    static let effects = [noSchedule, preferNoSchedule, noExecute]

    /// The taints Kubernetes' node lifecycle puts on nodes that are not ready or unreachable.
    public static let notReadyKey = "node.kubernetes.io/not-ready"
    public static let unreachableKey = "node.kubernetes.io/unreachable"
    /// The taint a cordoned (unschedulable) node carries.
    public static let unschedulableKey = "node.kubernetes.io/unschedulable"
}
