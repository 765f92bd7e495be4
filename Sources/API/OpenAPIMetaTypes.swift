import JSON
import Store

/// The meta/v1 types the API's paths take and return beside the kinds (list metadata,
/// Status, DeleteOptions, watch events, patch bodies, resource discovery), declared once like
/// the kinds: their JSON fields, protobuf numbers and documentation. The OpenAPI documents
/// publish their schemas; `KubeProtobuf` reads a protobuf DeleteOptions body with them.
enum OpenAPIMeta {
    /// `metadata` of lists (Kubernetes' ListMeta).
    struct ListMeta: WireStruct {
        var selfLink = ""
        var resourceVersion = ""
        var `continue` = ""
        var remainingItemCount: Int64?
        init() {}
        static let wireInfo = WireStructInfo<ListMeta>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", "Metadata of a list: the revision it was read at and how to read on.",
            [
                .omitEmpty("selfLink", 1, \.selfLink, "Deprecated and never set by the server."),
                .omitEmpty("resourceVersion", 2, \.resourceVersion,
                           "The revision the list was read at: watch from it to see every later change."),
                .omitEmpty("continue", 3, \.continue,
                           "Set when the list was cut at `limit`: pass it as `continue` to read the next page."),
                .optional("remainingItemCount", 4, \.remainingItemCount,
                          "How many more items a paged list holds beyond this page, when known."),
            ])
    }

    /// The answer to a failed request, or to a delete that removed the object at once.
    struct Status: WireStruct {
        var kind = ""
        var apiVersion = ""
        var metadata = ListMeta()
        var status = ""
        var message = ""
        var reason = ""
        var details: StatusDetails?
        var code: Int32 = 0
        init() {}
        static let wireInfo = WireStructInfo<Status>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status", "The outcome of a request that returns no object: why it failed, or that it succeeded.",
            [
                .omitEmpty("kind", nil, \.kind, "The kind: Status."),
                .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
                .always("metadata", 1, \.metadata, "List metadata (unused)."),
                .omitEmpty("status", 2, \.status, "Success or Failure."),
                .omitEmpty("message", 3, \.message, "What happened, for people."),
                .omitEmpty("reason", 4, \.reason, "Why it failed, in CamelCase (NotFound, AlreadyExists, Conflict, Invalid, ...)."),
                .optional("details", 5, \.details, "More about the failure: the object it concerns and the fields at fault."),
                .omitEmpty("code", 6, \.code, "The HTTP status code."),
            ], groupVersionKinds: [("", "v1", "Status")])
    }

    /// What a Status is about.
    struct StatusDetails: WireStruct {
        var name = ""
        var group = ""
        var kind = ""
        var uid = ""
        var causes: [StatusCause] = []
        var retryAfterSeconds: Int32 = 0
        init() {}
        static let wireInfo = WireStructInfo<StatusDetails>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails", "The object a Status concerns and the causes of its failure.",
            [
                .omitEmpty("name", 1, \.name, "The object's name."),
                .omitEmpty("group", 2, \.group, "The object's API group."),
                .omitEmpty("kind", 3, \.kind, "The object's kind (or resource)."),
                .omitEmpty("uid", 6, \.uid, "The object's uid."),
                .omitEmpty("causes", 4, \.causes, "Each field at fault and what is wrong with it.", semantics: .atomic),
                .omitEmpty("retryAfterSeconds", 5, \.retryAfterSeconds, "Seconds to wait before retrying."),
            ])
    }

    /// One cause of a failure.
    struct StatusCause: WireStruct {
        var reason = ""
        var message = ""
        var field = ""
        init() {}
        static let wireInfo = WireStructInfo<StatusCause>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause", "One reason a request failed, usually one field's error.",
            [
                .omitEmpty("reason", 1, \.reason, "The kind of error (FieldValueInvalid, FieldValueRequired, ...)."),
                .omitEmpty("message", 2, \.message, "What is wrong, for people."),
                .omitEmpty("field", 3, \.field, "The field at fault, as a path (spec.containers[0].image)."),
            ])
    }

    /// The optional body of a DELETE.
    struct DeleteOptions: WireStruct {
        var kind = ""
        var apiVersion = ""
        var gracePeriodSeconds: Int64?
        var preconditions: Preconditions?
        var orphanDependents: Bool?
        var propagationPolicy: String?
        var dryRun: [String] = []
        var ignoreStoreReadErrorWithClusterBreakingPotential: Bool?
        init() {}
        static let wireInfo = WireStructInfo<DeleteOptions>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "How to delete: grace period, preconditions and what happens to dependents.",
            [
                .omitEmpty("kind", nil, \.kind, "The kind: DeleteOptions."),
                .omitEmpty("apiVersion", nil, \.apiVersion, "The API version."),
                .optional("gracePeriodSeconds", 1, \.gracePeriodSeconds,
                          "Seconds the object gets to stop before it is removed; 0 deletes at once. Unset: the kind's default."),
                .optional("preconditions", 2, \.preconditions, "Delete only when the object still has this uid and resourceVersion."),
                .optional("orphanDependents", 3, \.orphanDependents,
                          "Deprecated (use propagationPolicy): whether dependents are orphaned rather than deleted."),
                .optional("propagationPolicy", 4, \.propagationPolicy,
                          "What happens to dependents: Orphan, Background (deleted after the owner) or Foreground (before)."),
                .omitEmpty("dryRun", 5, \.dryRun, "All: check the delete without doing it.", semantics: .atomic),
                .optional("ignoreStoreReadErrorWithClusterBreakingPotential", 6, \.ignoreStoreReadErrorWithClusterBreakingPotential,
                          "Delete an object that cannot be read from storage (not applicable to shoal)."),
            ])
    }

    /// Conditions a delete must meet.
    struct Preconditions: WireStruct {
        var uid: String?
        var resourceVersion: String?
        init() {}
        static let wireInfo = WireStructInfo<Preconditions>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions", "What the object must still be for the delete to happen.",
            [
                .optional("uid", 1, \.uid, "The uid the object must have."),
                .optional("resourceVersion", 2, \.resourceVersion, "The resourceVersion the object must have."),
            ])
    }

    /// One event of a watch stream.
    struct WatchEvent: WireStruct {
        var type = ""
        var object = RawJSON(.null)
        init() {}
        static let wireInfo = WireStructInfo<WatchEvent>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "One change seen by a watch.",
            [
                .always("type", 1, \.type, "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.", required: true),
                .always("object", 2, \.object,
                        "The object as it is after the change (as it was, for DELETED); a Status for ERROR; for BOOKMARK only its resourceVersion.",
                        required: true),
            ])
    }

    /// The body of a PATCH (its form depends on the Content-Type).
    struct Patch: WireStruct {
        init() {}
        static let wireInfo = WireStructInfo<Patch>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
            "A patch: a JSON Patch (application/json-patch+json), a JSON merge patch (application/merge-patch+json) or a strategic merge patch (application/strategic-merge-patch+json).",
            [])
    }

    /// The resources of one group version (`GET /api/v1`, `GET /apis/{group}/{version}`).
    struct APIResourceList: WireStruct {
        var kind = ""
        var apiVersion = ""
        var groupVersion = ""
        var resources: [APIResource] = []
        init() {}
        static let wireInfo = WireStructInfo<APIResourceList>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "The resources served in one group version.",
            [
                .omitEmpty("kind", nil, \.kind, "The kind: APIResourceList."),
                .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
                .always("groupVersion", 1, \.groupVersion, "The group version, e.g. apps/v1.", required: true),
                .always("resources", 2, \.resources, "The resources.", required: true, semantics: .atomic),
            ], groupVersionKinds: [("", "v1", "APIResourceList")])
    }

    /// One resource of a group version.
    struct APIResource: WireStruct {
        var name = ""
        var singularName = ""
        var namespaced = false
        var group = ""
        var version = ""
        var kind = ""
        var verbs: [String] = []
        var shortNames: [String] = []
        var categories: [String] = []
        init() {}
        static let wireInfo = WireStructInfo<APIResource>(
            "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", "A resource: its URL name, kind, scope and verbs.",
            [
                .always("name", 1, \.name, "The plural name in URLs (with /subresource for subresources).", required: true),
                .always("singularName", 6, \.singularName, "The singular name.", required: true),
                .always("namespaced", 2, \.namespaced, "Whether its objects live in namespaces.", required: true),
                .omitEmpty("group", 8, \.group, "The group of its kind, when not the list's (subresources)."),
                .omitEmpty("version", 9, \.version, "The version of its kind, when not the list's (subresources)."),
                .always("kind", 3, \.kind, "The kind of its objects.", required: true),
                .always("verbs", 4, \.verbs, "What can be done: get, list, watch, create, update, patch, delete.", required: true),
                .omitEmpty("shortNames", 5, \.shortNames, "Short names kubectl accepts.", semantics: .atomic),
                .omitEmpty("categories", 7, \.categories, "Groups of resources it belongs to (all).", semantics: .atomic),
            ])
    }
}
