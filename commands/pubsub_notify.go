package commands

// HasSubscribers reports whether any client subscribes to a channel or a
// pattern (shard channels aside): keyspace notifications are built only
// then.
func (ps *PubSub) HasSubscribers() bool {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return len(ps.channels) > 0 || len(ps.patterns) > 0
}
