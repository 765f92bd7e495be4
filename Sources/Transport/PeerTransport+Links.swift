// PeerTransport's machinery: dialing and reconnecting, accepting, admission and the
// one-connection rule, delivery, the end-of-iteration flush, pings and timeouts.

extension PeerTransport {
    // MARK: Dialing

    func dial(_ link: PeerLink) {
        guard !isClosed, !loop.isShuttingDown, links[link.id] === link,
              link.active == nil, !link.isDialing else { return }
        link.isDialing = true
        link.dialGeneration &+= 1
        let generation = link.dialGeneration
        link.stats.dialAttempts += 1
        TCPConnection.connect(
            loop: loop, host: link.address.host, port: link.address.port,
            localHost: listenHost == "0.0.0.0" || listenHost == "::" ? nil : listenHost,
            timeoutMilliseconds: configuration.connectTimeoutMilliseconds
        ) { [weak self, weak link] result in
            guard let self, let link, !self.isClosed, self.links[link.id] === link,
                  link.dialGeneration == generation else {
                if case .success(let connection) = result { connection.abort() }
                return
            }
            switch result {
            case .failure:
                link.isDialing = false
                link.stats.dialFailures += 1
                self.scheduleReconnect(link)
            case .success(let connection):
                if link.active != nil {
                    // The peer got through to us meanwhile: no second connection to settle.
                    connection.abort()
                    link.isDialing = false
                    return
                }
                let peerConnection = self.makeConnection(connection, role: .dialer(expectedID: link.id))
                link.dialing = peerConnection
                peerConnection.start()
            }
        }
    }

    /// Arms the link's reconnect timer with the next backoff delay, unless the link is
    /// connected, dialing or already waiting.
    func scheduleReconnect(_ link: PeerLink) {
        guard !isClosed, !loop.isShuttingDown, links[link.id] === link,
              link.active == nil, !link.isDialing, !link.reconnectTimer.isActive else { return }
        let delay = reconnectDelayMilliseconds(failures: link.failedDials)
        link.failedDials += 1
        link.reconnectTimer.start(afterMilliseconds: delay) { [weak self, weak link] in
            guard let self, let link else { return }
            self.dial(link)
        }
    }

    /// min · 2^failures, capped at max, drawn uniformly from [half of it, all of it].
    func reconnectDelayMilliseconds(failures: Int) -> UInt64 {
        let low = UInt64(configuration.reconnectDelayMinMilliseconds)
        let high = UInt64(configuration.reconnectDelayMaxMilliseconds)
        let step = failures >= 32 ? high : min(high, low << UInt64(failures))
        return PeerRandom.uint64(in: max(1, step / 2)...max(1, step))
    }

    // MARK: Accepting

    func accepted(_ connection: TCPConnection) {
        guard !isClosed, pending.count < configuration.pendingHandshakesMax else {
            refusedHandshakes += 1
            connection.abort()
            return
        }
        makeConnection(connection, role: .acceptor).start()
    }

    private func makeConnection(_ connection: TCPConnection, role: PeerConnection.Role) -> PeerConnection {
        let peerConnection = PeerConnection(
            connection: connection, role: role, transport: self, secret: secret, localID: localID,
            localAuth: PeerWire.Auth(instanceID: instanceID, context: helloContext),
            frameBytesMax: configuration.frameBytesMax)
        pending[ObjectIdentifier(peerConnection)] = peerConnection
        return peerConnection
    }

    // MARK: Admission and the one-connection rule

    /// Called when `connection` proved the secret (its AUTH verified): may it become its
    /// peer's connection? For the dialer this is final; for the acceptor it is confirmed
    /// again when READY arrives (`confirm`).
    func admit(_ connection: PeerConnection) -> Bool {
        guard !isClosed, let id = connection.remoteID, id != localID, let link = links[id],
              handlers.acceptPeer(id, connection.remoteContext),
              !isSuperseded(connection, link: link) else {
            refusedHandshakes += 1
            return false
        }
        // The higher id does not take its own dial while the lower id's dial, which the rule
        // prefers, is admitted here and waits for its READY.
        if connection.isDialer, pending.values.contains(where: { other in
            other !== connection && other.remoteID == id && other.phase == .awaitingReady
                && other.remoteInstanceID == connection.remoteInstanceID
                && other.dialerID == min(localID, id) && connection.dialerID != other.dialerID
        }) {
            refusedHandshakes += 1
            return false
        }
        return true
    }

    /// The acceptor's final word, on READY: does the connection still win?
    func confirm(_ connection: PeerConnection) -> Bool {
        guard !isClosed, let id = connection.remoteID, let link = links[id],
              !isSuperseded(connection, link: link) else {
            refusedHandshakes += 1
            return false
        }
        return true
    }

    private func isSuperseded(_ connection: PeerConnection, link: PeerLink) -> Bool {
        guard let current = link.active, current !== connection else { return false }
        return !prefers(connection, over: current, peer: link.id)
    }

    /// The one-connection rule (documented in `PeerWire`).
    func prefers(_ candidate: PeerConnection, over current: PeerConnection, peer: UInt64) -> Bool {
        if candidate.remoteInstanceID != current.remoteInstanceID { return true }
        if candidate.dialerID == current.dialerID { return true }
        return candidate.dialerID == min(localID, peer)
    }

    func established(_ connection: PeerConnection) {
        pending.removeValue(forKey: ObjectIdentifier(connection))
        guard let id = connection.remoteID, let link = links[id], !isClosed else {
            connection.close()  // removed by acceptPeer, or closed meanwhile
            return
        }
        if link.dialing === connection {
            link.dialing = nil
            link.isDialing = false
        }
        let previous = link.active
        link.active = connection
        link.failedDials = 0
        link.reconnectTimer.stop()
        if let previous { link.heardBeforeAtMilliseconds = previous.lastReceivedAtMilliseconds }
        previous?.close()  // replaced: its close is no longer this link's business
        if link.everUp && !link.reportedUp { link.stats.reconnectCount += 1 }
        link.everUp = true
        link.reportedUp = true
        handlers.onPeerUp(id)
    }

    // MARK: Connections closing

    func closed(_ connection: PeerConnection, error: UVError?) {
        let wasPending = pending.removeValue(forKey: ObjectIdentifier(connection)) != nil
        var peer = connection.remoteID
        if case .dialer(let target) = connection.role { peer = target }
        guard let id = peer, let link = links[id], !isClosed else {
            if wasPending { failedHandshakes += 1 }
            return
        }
        if link.dialing === connection {
            link.dialing = nil
            link.isDialing = false
            link.stats.dialFailures += 1
            failedHandshakes += 1
            scheduleReconnect(link)
        } else if wasPending {
            failedHandshakes += 1
        }
        if link.active === connection {
            link.heardBeforeAtMilliseconds = connection.lastReceivedAtMilliseconds
            link.active = nil
            scheduleReconnect(link)
        }
        reportDownIfNeeded(link)
    }

    /// Reports `onPeerDown` once the link has no connection and no handshake with the
    /// (demonstrably alive) peer is under way: a connection replaced while both sides
    /// settle on one is not a down.
    private func reportDownIfNeeded(_ link: PeerLink) {
        guard link.reportedUp, link.active == nil else { return }
        let settling = pending.values.contains {
            $0.remoteID == link.id && ($0.phase == .awaitingAuth || $0.phase == .awaitingReady)
        }
        if settling { return }
        link.reportedUp = false
        handlers.onPeerDown(link.id)
    }

    // MARK: Traffic

    func deliver(_ payload: [UInt8], from connection: PeerConnection) {
        guard let id = connection.remoteID, let link = links[id], link.active === connection else { return }
        link.stats.messagesIn += 1
        handlers.onMessage(id, payload)
    }

    func received(byteCount: Int, on connection: PeerConnection) {
        guard let id = connection.remoteID, let link = links[id], link.active === connection else { return }
        link.stats.bytesIn += UInt64(byteCount)
    }

    func measured(roundTripNanoseconds: UInt64, from connection: PeerConnection) {
        guard let id = connection.remoteID, let link = links[id], link.active === connection else { return }
        link.stats.lastRoundTripNanoseconds = roundTripNanoseconds
    }

    func needsFlush(_ connection: PeerConnection) {
        dirty.append(connection)
    }

    /// Writes everything queued now, instead of at the end of the loop iteration (for work
    /// that runs after the transport's own end-of-iteration flush).
    public func flushQueued() { flush() }

    /// End of a loop iteration: one write per connection with everything queued.
    func flush() {
        if dirty.isEmpty { return }
        let connections = dirty
        dirty = []
        for connection in connections {
            let written = connection.flush()
            if written > 0, let id = connection.remoteID, let link = links[id], link.active === connection {
                link.stats.bytesOut += UInt64(written)
            }
        }
    }

    /// Periodic: handshake timeouts, silence timeouts, pings.
    func maintain() {
        guard !isClosed else { return }
        let now = loop.nowMilliseconds
        for connection in pending.values
        where now &- connection.openedAtMilliseconds > UInt64(configuration.handshakeTimeoutMilliseconds) {
            connection.close(UVError(call: "peer handshake", code: UVError.timedOut))
        }
        for id in links.keys.sorted() {
            guard let connection = links[id]?.active else { continue }
            if now &- connection.lastReceivedAtMilliseconds > UInt64(configuration.silenceTimeoutMilliseconds) {
                connection.close(UVError(call: "peer silent", code: UVError.timedOut))
            } else {
                connection.sendPing()
            }
        }
    }
}
