import GRPCCore
import GRPCProtobuf
import SwiftProtobuf

// The CRI calls the agent makes, each as its service, its method name and its message types
// (the wire contract: `/runtime.v1.RuntimeService/RunPodSandbox`, ...). A table instead of
// protoc-gen-grpc-swift's client: all shoal needs of gRPC here is unary calls, and the
// generated client was 2,000 lines for them.

/// One unary CRI method: where it is and what it takes and answers.
public struct CRIMethod<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>: Sendable {
    public let descriptor: MethodDescriptor

    init(_ service: String, _ method: String) {
        descriptor = MethodDescriptor(fullyQualifiedService: service, method: method, type: .unary)
    }
}

public enum CRIMethods {
    static let runtimeService = "runtime.v1.RuntimeService"
    static let imageService = "runtime.v1.ImageService"

    public static let version = CRIMethod<Runtime_V1_VersionRequest, Runtime_V1_VersionResponse>(runtimeService, "Version")
    public static let status = CRIMethod<Runtime_V1_StatusRequest, Runtime_V1_StatusResponse>(runtimeService, "Status")
    public static let runPodSandbox = CRIMethod<Runtime_V1_RunPodSandboxRequest, Runtime_V1_RunPodSandboxResponse>(runtimeService, "RunPodSandbox")
    public static let stopPodSandbox = CRIMethod<Runtime_V1_StopPodSandboxRequest, Runtime_V1_StopPodSandboxResponse>(runtimeService, "StopPodSandbox")
    public static let removePodSandbox = CRIMethod<Runtime_V1_RemovePodSandboxRequest, Runtime_V1_RemovePodSandboxResponse>(runtimeService, "RemovePodSandbox")
    public static let podSandboxStatus = CRIMethod<Runtime_V1_PodSandboxStatusRequest, Runtime_V1_PodSandboxStatusResponse>(runtimeService, "PodSandboxStatus")
    public static let listPodSandbox = CRIMethod<Runtime_V1_ListPodSandboxRequest, Runtime_V1_ListPodSandboxResponse>(runtimeService, "ListPodSandbox")
    public static let createContainer = CRIMethod<Runtime_V1_CreateContainerRequest, Runtime_V1_CreateContainerResponse>(runtimeService, "CreateContainer")
    public static let startContainer = CRIMethod<Runtime_V1_StartContainerRequest, Runtime_V1_StartContainerResponse>(runtimeService, "StartContainer")
    public static let stopContainer = CRIMethod<Runtime_V1_StopContainerRequest, Runtime_V1_StopContainerResponse>(runtimeService, "StopContainer")
    public static let removeContainer = CRIMethod<Runtime_V1_RemoveContainerRequest, Runtime_V1_RemoveContainerResponse>(runtimeService, "RemoveContainer")
    public static let listContainers = CRIMethod<Runtime_V1_ListContainersRequest, Runtime_V1_ListContainersResponse>(runtimeService, "ListContainers")
    public static let containerStatus = CRIMethod<Runtime_V1_ContainerStatusRequest, Runtime_V1_ContainerStatusResponse>(runtimeService, "ContainerStatus")
    public static let execSync = CRIMethod<Runtime_V1_ExecSyncRequest, Runtime_V1_ExecSyncResponse>(runtimeService, "ExecSync")
    public static let exec = CRIMethod<Runtime_V1_ExecRequest, Runtime_V1_ExecResponse>(runtimeService, "Exec")
    public static let attach = CRIMethod<Runtime_V1_AttachRequest, Runtime_V1_AttachResponse>(runtimeService, "Attach")
    public static let portForward = CRIMethod<Runtime_V1_PortForwardRequest, Runtime_V1_PortForwardResponse>(runtimeService, "PortForward")
    public static let imageStatus = CRIMethod<Runtime_V1_ImageStatusRequest, Runtime_V1_ImageStatusResponse>(imageService, "ImageStatus")
    public static let pullImage = CRIMethod<Runtime_V1_PullImageRequest, Runtime_V1_PullImageResponse>(imageService, "PullImage")
    public static let removeImage = CRIMethod<Runtime_V1_RemoveImageRequest, Runtime_V1_RemoveImageResponse>(imageService, "RemoveImage")
}

extension CRIClient {
    /// Makes one call and answers its response message (or throws the RPC's error).
    public func call<Request, Response>(_ method: CRIMethod<Request, Response>, _ request: Request,
                                        options: CRICallOptions) async throws -> Response {
        try await grpc.unary(request: ClientRequest(message: request), descriptor: method.descriptor,
                             serializer: ProtobufSerializer<Request>(), deserializer: ProtobufDeserializer<Response>(),
                             options: options) { try $0.message }
    }
}
