import JSON

/// The condition shape newer APIs share (Kubernetes' meta/v1 Condition): one observed aspect
/// of an object's state, such as a Service's load balancer conditions.
public struct MetaCondition: WireStruct, Hashable {
    public var type = ""
    public var status = ""
    public var observedGeneration: Int64 = 0
    public var lastTransitionTime: MetaTime?
    public var reason = ""
    public var message = ""

    public init() {}

    public static let wireInfo = WireStructInfo<MetaCondition>(
        "io.k8s.apimachinery.pkg.apis.meta.v1.Condition", "One observed aspect of an object's state.",
        [
            .always("type", 1, \.type, "What is observed, in CamelCase (e.g. Ready).", required: true),
            .always("status", 2, \.status, "True, False or Unknown.", required: true),
            .omitEmpty("observedGeneration", 3, \.observedGeneration,
                       "The metadata.generation the observation was made against."),
            .optional("lastTransitionTime", 4, \.lastTransitionTime, "When status last changed.", required: true),
            .always("reason", 5, \.reason, "A CamelCase word for why status is what it is.", required: true),
            .always("message", 6, \.message, "Details for people; may be empty.", required: true),
        ])
}
