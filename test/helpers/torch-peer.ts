/** Test helper: the PyTorch peer, as the benchmarks run it. */
export { PEER_SCRIPT, PEER_UNAVAILABLE, peerFlags, runPeer, runPeerAsync } from '../../bench/torch-peer.js';
