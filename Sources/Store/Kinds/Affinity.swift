/// Where a pod may or would rather run (core/v1 Affinity): near nodes with some labels, and
/// near or away from other pods.
public struct Affinity: WireStruct, Hashable {
    public var nodeAffinity: NodeAffinity?
    public var podAffinity: PodAffinity?
    public var podAntiAffinity: PodAntiAffinity?
    public init() {}
    public static let wireInfo = WireStructInfo<Affinity>(
        "io.k8s.api.core.v1.Affinity", "Scheduling rules about nodes and other pods.",
        [
            .optional("nodeAffinity", 1, \.nodeAffinity, "Rules about the labels of the node."),
            .optional("podAffinity", 2, \.podAffinity, "Run in the same topology domain as some pods."),
            .optional("podAntiAffinity", 3, \.podAntiAffinity, "Run away from some pods' topology domains."),
        ])
}

/// Rules about the node a pod runs on (core/v1 NodeAffinity).
public struct NodeAffinity: WireStruct, Hashable {
    public var requiredDuringSchedulingIgnoredDuringExecution: NodeSelector?
    public var preferredDuringSchedulingIgnoredDuringExecution: [PreferredSchedulingTerm] = []
    public init() {}
    public static let wireInfo = WireStructInfo<NodeAffinity>(
        "io.k8s.api.core.v1.NodeAffinity", "Which nodes a pod must or should run on.",
        [
            .optional("requiredDuringSchedulingIgnoredDuringExecution", 1, \.requiredDuringSchedulingIgnoredDuringExecution,
                      "Nodes the pod may be placed on; not re-checked once it runs."),
            .omitEmpty("preferredDuringSchedulingIgnoredDuringExecution", 2, \.preferredDuringSchedulingIgnoredDuringExecution,
                       "Weighted preferences the scheduler adds up per node.", semantics: .atomic),
        ])
}

/// Terms of which a node must match at least one (core/v1 NodeSelector).
public struct NodeSelector: WireStruct, Hashable {
    public var nodeSelectorTerms: [NodeSelectorTerm] = []
    public init() {}
    public static let wireInfo = WireStructInfo<NodeSelector>(
        "io.k8s.api.core.v1.NodeSelector", "Selects nodes matching any of its terms.",
        [.always("nodeSelectorTerms", 1, \.nodeSelectorTerms, "The terms, ORed.", semantics: .atomic)])
}

/// Requirements a node must all meet (core/v1 NodeSelectorTerm).
public struct NodeSelectorTerm: WireStruct, Hashable {
    public var matchExpressions: [NodeSelectorRequirement] = []
    public var matchFields: [NodeSelectorRequirement] = []
    public init() {}
    public static let wireInfo = WireStructInfo<NodeSelectorTerm>(
        "io.k8s.api.core.v1.NodeSelectorTerm", "Requirements on a node's labels and fields, ANDed.",
        [
            .omitEmpty("matchExpressions", 1, \.matchExpressions, "Requirements on the node's labels.", semantics: .atomic),
            .omitEmpty("matchFields", 2, \.matchFields, "Requirements on the node's fields (only metadata.name).",
                       semantics: .atomic),
        ])
}

/// One requirement on a node label or field (core/v1 NodeSelectorRequirement).
public struct NodeSelectorRequirement: WireStruct, Hashable {
    public var key = ""
    public var `operator` = ""
    public var values: [String] = []
    public init() {}
    public static let wireInfo = WireStructInfo<NodeSelectorRequirement>(
        "io.k8s.api.core.v1.NodeSelectorRequirement", "A requirement on one node label or field.",
        [
            .always("key", 1, \.key, "The label key or field name."),
            .always("operator", 2, \.operator, "In, NotIn, Exists, DoesNotExist, Gt or Lt."),
            .omitEmpty("values", 3, \.values,
                       "The values: some for In and NotIn, none for Exists and DoesNotExist, one integer for Gt and Lt.",
                       semantics: .atomic),
        ])

    /// The operators Kubernetes accepts.
    static let operators = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
}

/// A weighted node preference (core/v1 PreferredSchedulingTerm).
public struct PreferredSchedulingTerm: WireStruct, Hashable {
    public var weight: Int32 = 0
    public var preference = NodeSelectorTerm()
    public init() {}
    public static let wireInfo = WireStructInfo<PreferredSchedulingTerm>(
        "io.k8s.api.core.v1.PreferredSchedulingTerm", "A preference for nodes matching a term.",
        [
            .always("weight", 1, \.weight, "1-100: how much matching counts."),
            .always("preference", 2, \.preference, "The term."),
        ])
}

/// Pods to run near (core/v1 PodAffinity).
public struct PodAffinity: WireStruct, Hashable {
    public var requiredDuringSchedulingIgnoredDuringExecution: [PodAffinityTerm] = []
    public var preferredDuringSchedulingIgnoredDuringExecution: [WeightedPodAffinityTerm] = []
    public init() {}
    public static let wireInfo = WireStructInfo<PodAffinity>(
        "io.k8s.api.core.v1.PodAffinity", "Pods this pod must or should share a topology domain with.",
        [
            .omitEmpty("requiredDuringSchedulingIgnoredDuringExecution", 1, \.requiredDuringSchedulingIgnoredDuringExecution,
                       "Terms that must all hold when the pod is placed.", semantics: .atomic),
            .omitEmpty("preferredDuringSchedulingIgnoredDuringExecution", 2, \.preferredDuringSchedulingIgnoredDuringExecution,
                       "Weighted preferences.", semantics: .atomic),
        ])
}

/// Pods to stay away from (core/v1 PodAntiAffinity).
public struct PodAntiAffinity: WireStruct, Hashable {
    public var requiredDuringSchedulingIgnoredDuringExecution: [PodAffinityTerm] = []
    public var preferredDuringSchedulingIgnoredDuringExecution: [WeightedPodAffinityTerm] = []
    public init() {}
    public static let wireInfo = WireStructInfo<PodAntiAffinity>(
        "io.k8s.api.core.v1.PodAntiAffinity", "Pods this pod must or should not share a topology domain with.",
        [
            .omitEmpty("requiredDuringSchedulingIgnoredDuringExecution", 1, \.requiredDuringSchedulingIgnoredDuringExecution,
                       "Terms that must all hold when the pod is placed.", semantics: .atomic),
            .omitEmpty("preferredDuringSchedulingIgnoredDuringExecution", 2, \.preferredDuringSchedulingIgnoredDuringExecution,
                       "Weighted preferences.", semantics: .atomic),
        ])
}

/// A set of pods and a topology key (core/v1 PodAffinityTerm): the pods matching the
/// selector in the namespaces given, and the node label that defines "the same domain".
public struct PodAffinityTerm: WireStruct, Hashable {
    public var labelSelector: LabelSelectorSpec?
    public var namespaces: [String] = []
    public var topologyKey = ""
    public var namespaceSelector: LabelSelectorSpec?
    public var matchLabelKeys: [String] = []
    public var mismatchLabelKeys: [String] = []
    public init() {}
    public static let wireInfo = WireStructInfo<PodAffinityTerm>(
        "io.k8s.api.core.v1.PodAffinityTerm", "Pods selected by labels and namespaces, and the node label defining a domain.",
        [
            .optional("labelSelector", 1, \.labelSelector, "The pods (none when unset)."),
            .omitEmpty("namespaces", 2, \.namespaces, "Namespaces to look in (default: the pod's own).", semantics: .atomic),
            .always("topologyKey", 3, \.topologyKey, "The node label whose equal values make one domain (e.g. a zone)."),
            .optional("namespaceSelector", 4, \.namespaceSelector, "Namespaces to look in, by their labels."),
            .omitEmpty("matchLabelKeys", 5, \.matchLabelKeys,
                       "Label keys whose values, taken from this pod, are added to the selector.", semantics: .atomic),
            .omitEmpty("mismatchLabelKeys", 6, \.mismatchLabelKeys,
                       "Label keys whose values, taken from this pod, must differ.", semantics: .atomic),
        ])
}

/// A weighted pod (anti-)affinity preference (core/v1 WeightedPodAffinityTerm).
public struct WeightedPodAffinityTerm: WireStruct, Hashable {
    public var weight: Int32 = 0
    public var podAffinityTerm = PodAffinityTerm()
    public init() {}
    public static let wireInfo = WireStructInfo<WeightedPodAffinityTerm>(
        "io.k8s.api.core.v1.WeightedPodAffinityTerm", "A preference about other pods.",
        [
            .always("weight", 1, \.weight, "1-100: how much it counts."),
            .always("podAffinityTerm", 2, \.podAffinityTerm, "The term."),
        ])
}

/// A taint a pod accepts (core/v1 Toleration).
public struct Toleration: WireStruct, Hashable {
    public var key = ""
    public var `operator` = ""
    public var value = ""
    public var effect = ""
    public var tolerationSeconds: Int64?

    public init() {}

    public init(key: String, operator: String = "", value: String = "", effect: String = "", tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }

    public static let wireInfo = WireStructInfo<Toleration>(
        "io.k8s.api.core.v1.Toleration", "Lets a pod run on nodes with a matching taint.",
        [
            .omitEmpty("key", 1, \.key, "The taint key; empty with operator Exists matches every taint."),
            .omitEmpty("operator", 2, \.operator, "Equal (default: the values must be equal) or Exists (any value)."),
            .omitEmpty("value", 3, \.value, "The taint value, for Equal."),
            .omitEmpty("effect", 4, \.effect, "The effect matched (NoSchedule, PreferNoSchedule, NoExecute); empty matches all."),
            .optional("tolerationSeconds", 5, \.tolerationSeconds,
                      "NoExecute only: how long the pod stays once the taint appears (unset: forever)."),
        ])

    /// Whether this toleration accepts `taint` (Kubernetes' ToleratesTaint).
    public func tolerates(_ taint: Taint) -> Bool {
        if !effect.isEmpty && effect != taint.effect { return false }
        if !key.isEmpty && key != taint.key { return false }
        switch self.operator {
        case "Exists": return true
        case "", "Equal": return value == taint.value
        default: return false
        }
    }
}

/// How to spread matching pods over topology domains (core/v1 TopologySpreadConstraint).
public struct TopologySpreadConstraint: WireStruct, Hashable {
    public var maxSkew: Int32 = 0
    public var topologyKey = ""
    public var whenUnsatisfiable = ""
    public var labelSelector: LabelSelectorSpec?
    public var minDomains: Int32?
    public var nodeAffinityPolicy: String?
    public var nodeTaintsPolicy: String?
    public var matchLabelKeys: [String] = []
    public init() {}
    public static let wireInfo = WireStructInfo<TopologySpreadConstraint>(
        "io.k8s.api.core.v1.TopologySpreadConstraint", "Keeps matching pods evenly spread over the domains of a node label.",
        [
            .always("maxSkew", 1, \.maxSkew, "The most the count of matching pods may differ between two domains (at least 1)."),
            .always("topologyKey", 2, \.topologyKey, "The node label whose values are the domains."),
            .always("whenUnsatisfiable", 3, \.whenUnsatisfiable, "DoNotSchedule or ScheduleAnyway."),
            .optional("labelSelector", 4, \.labelSelector, "The pods counted."),
            .optional("minDomains", 5, \.minDomains, "Fewest eligible domains assumed (DoNotSchedule only)."),
            .optional("nodeAffinityPolicy", 6, \.nodeAffinityPolicy, "Honor or Ignore the pod's node affinity when counting domains."),
            .optional("nodeTaintsPolicy", 7, \.nodeTaintsPolicy, "Honor or Ignore node taints when counting domains."),
            .omitEmpty("matchLabelKeys", 8, \.matchLabelKeys, "Label keys whose values, taken from this pod, narrow the selector.",
                       semantics: .atomic),
        ])
}
