import JSON

/// `metadata` of every object (Kubernetes' ObjectMeta). The server owns `uid`,
/// `resourceVersion`, `generation`, `creationTimestamp` and the deletion fields: whatever a
/// client sends for them is replaced (`Admission`).
public struct ObjectMeta: WireStruct, Hashable {
    public var name = ""
    public var generateName = ""
    public var namespace = ""
    public var selfLink = ""
    public var uid = ""
    public var resourceVersion = ""
    public var generation: Int64 = 0
    public var creationTimestamp: MetaTime?
    public var deletionTimestamp: MetaTime?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    public var ownerReferences: [OwnerReference] = []
    public var finalizers: [String] = []
    /// Accepted and dropped: shoal does not track field managers (no server-side apply).
    public var managedFields: [RawJSON] = []

    public init() {}

    public init(name: String, namespace: String = "", labels: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
    }

    public static let wireInfo = WireStructInfo<ObjectMeta>(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "Standard metadata every object has: its name, namespace, labels and the fields the server manages.",
        [
            .omitEmpty("name", 1, \.name, "The object's name, unique among objects of its kind in its namespace."),
            .omitEmpty("generateName", 2, \.generateName,
                       "A prefix from which the server makes a unique name when `name` is empty."),
            .omitEmpty("namespace", 3, \.namespace, "The namespace the object lives in (empty for cluster-scoped kinds)."),
            .omitEmpty("selfLink", 4, \.selfLink, "Deprecated and never set by the server."),
            .omitEmpty("uid", 5, \.uid, "Set by the server on create: unique over the cluster's lifetime. Read-only."),
            .omitEmpty("resourceVersion", 6, \.resourceVersion,
                       "The revision of the object's last change. Send it back on update to fail on a concurrent change (409)."),
            .omitEmpty("generation", 7, \.generation, "Counts changes to the desired state (spec). Read-only."),
            .optional("creationTimestamp", 8, \.creationTimestamp, "When the object was created (UTC). Read-only."),
            .optional("deletionTimestamp", 9, \.deletionTimestamp,
                      "Set when deletion was requested: the object goes once its finalizers are done or its grace period ends."),
            .optional("deletionGracePeriodSeconds", 10, \.deletionGracePeriodSeconds,
                      "Seconds the object was given to stop gracefully when its deletion was requested."),
            .omitEmpty("labels", 11, \.labels, "Key-value pairs that selectors match: how services find pods and owners find their objects."),
            .omitEmpty("annotations", 12, \.annotations, "Key-value pairs for tools and people; not used to select objects."),
            .omitEmpty("ownerReferences", 13, \.ownerReferences,
                       "The objects this one belongs to. When all its owners are deleted it is deleted too (garbage collection).",
                       semantics: .mergeBy("uid")),
            .omitEmpty("finalizers", 14, \.finalizers,
                       "Names of pending clean-ups. An object being deleted stays until this list is empty.",
                       semantics: .mergeSet),
            .omitEmpty("managedFields", 17, \.managedFields,
                       "Field manager records (server-side apply). shoal accepts and drops them."),
        ])
}

/// A reference from an object to its owner (Kubernetes' OwnerReference).
public struct OwnerReference: WireStruct, Hashable {
    public var apiVersion = ""
    public var kind = ""
    public var name = ""
    public var uid = ""
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init() {}

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil,
                blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    public static let wireInfo = WireStructInfo<OwnerReference>(
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
        "Names an owner of the object: in the same namespace, or cluster-scoped.",
        [
            .always("apiVersion", 5, \.apiVersion, "The owner's API version.", required: true),
            .always("kind", 1, \.kind, "The owner's kind.", required: true),
            .always("name", 3, \.name, "The owner's name.", required: true),
            .always("uid", 4, \.uid, "The owner's uid: a new object of the same name is not the owner.", required: true),
            .optional("controller", 6, \.controller, "True for the one owner that manages this object."),
            .optional("blockOwnerDeletion", 7, \.blockOwnerDeletion,
                      "With foreground deletion, the owner is not removed before this object is."),
        ])
}

/// A label selector as objects carry it (Kubernetes' metav1.LabelSelector): labels that must
/// match exactly, and set-based expressions. An empty selector selects everything; a missing
/// one (nil) selects nothing.
public struct LabelSelectorSpec: WireStruct, Hashable {
    public var matchLabels: [String: String] = [:]
    public var matchExpressions: [LabelSelectorRequirement] = []

    public init() {}
    public init(matchLabels: [String: String]) { self.matchLabels = matchLabels }

    public static let wireInfo = WireStructInfo<LabelSelectorSpec>(
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "Selects objects by their labels: every matchLabels pair and every expression must hold. Empty selects everything.",
        [
            .omitEmpty("matchLabels", 1, \.matchLabels, "Labels that must be present with exactly these values."),
            .omitEmpty("matchExpressions", 2, \.matchExpressions, "Set-based requirements, all of which must hold.",
                       semantics: .atomic),
        ])

    /// The parsed selector; nil (with `errors`) when an expression is malformed.
    public func selector(at path: FieldPath = "selector", errors: inout [FieldError]) -> LabelSelector? {
        var requirements: [LabelSelector.Requirement] = []
        for key in matchLabels.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            requirements.append(LabelSelector.Requirement(key: key, op: .equals, values: [matchLabels[key]!]))
        }
        var valid = true
        for (i, expression) in matchExpressions.enumerated() {
            let here = path.child("matchExpressions").index(i)
            let op: LabelSelector.Operator
            switch expression.operator {
            case "In": op = .inSet
            case "NotIn": op = .notInSet
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            default:
                errors.append(.notSupported(here.child("operator"), expression.operator, ["DoesNotExist", "Exists", "In", "NotIn"]))
                valid = false
                continue
            }
            if (op == .inSet || op == .notInSet) && expression.values.isEmpty {
                errors.append(.required(here.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
                valid = false
            } else if (op == .exists || op == .doesNotExist) && !expression.values.isEmpty {
                errors.append(.forbidden(here.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
                valid = false
            }
            if let error = Names.qualifiedNameError(expression.key) {
                errors.append(.invalid(here.child("key"), expression.key, error))
                valid = false
            }
            requirements.append(LabelSelector.Requirement(key: expression.key, op: op, values: expression.values))
        }
        return valid ? LabelSelector(requirements: requirements) : nil
    }

    /// The selector when it is well formed (nil otherwise): for controllers reading stored,
    /// already validated objects.
    public var selector: LabelSelector? {
        var ignored: [FieldError] = []
        return selector(errors: &ignored)
    }
}

/// One set-based requirement of a `LabelSelectorSpec`.
public struct LabelSelectorRequirement: WireStruct, Hashable {
    public var key = ""
    public var `operator` = ""
    public var values: [String] = []

    public init() {}

    public static let wireInfo = WireStructInfo<LabelSelectorRequirement>(
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        "A requirement on one label: In, NotIn, Exists or DoesNotExist.",
        [
            .always("key", 1, \.key, "The label key.", required: true),
            .always("operator", 2, \.operator, "In, NotIn, Exists or DoesNotExist.", required: true),
            .omitEmpty("values", 3, \.values, "The values for In and NotIn; empty for Exists and DoesNotExist.",
                       semantics: .atomic),
        ])
}
