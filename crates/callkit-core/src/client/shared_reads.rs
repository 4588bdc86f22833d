//! Identical reads in flight at the same time share one upstream request:
//! when twenty viewers open the same call at once, Tencent is asked once
//! (one request of its 200/s) and the twenty answers come from that one
//! body. Only successes are shared; a follower whose leader failed, or was
//! dropped, sends its own request, so an error is never handed to a caller
//! who did not cause it. Nothing is kept after the answer lands: this is
//! not a cache (`record_memo` is).
//!
//! A follower looks at the flight between short sleeps of its own instead
//! of being woken by the leader: in workerd each request has its own I/O
//! context, and a request woken only from another one's is cancelled as
//! hung ("the Workers runtime canceled this request").

use std::cell::RefCell;
use std::rc::Rc;

use crate::command::Command;

/// The command and its exact JSON body: the credentials are not in it.
type Key = (Command, Vec<u8>);

/// A list, not a map: only the reads of requests in progress are in it (a
/// handful), and a scan costs the bundle less than another `HashMap`.
#[derive(Default)]
pub struct SharedReads {
    in_flight: RefCell<Vec<(Key, Rc<Flight>)>>,
}

/// What a read yields for others: the OK body and its attempt count.
pub type Landed = (Vec<u8>, u32);

#[derive(Default)]
struct Flight {
    state: RefCell<State>,
}

#[derive(Default)]
enum State {
    #[default]
    InFlight,
    Landed(Landed),
    /// The leader failed or was dropped: each follower asks on its own.
    Failed,
}

pub enum Joined<'a> {
    /// Send the request, then `land` it.
    Leader(Leader<'a>),
    /// Another caller is asking already: look until it lands.
    Follower(Wait),
}

impl SharedReads {
    pub fn join(&self, command: Command, body: &[u8]) -> Joined<'_> {
        let key = (command, body.to_vec());
        let mut in_flight = self.in_flight.borrow_mut();
        if let Some((_, flight)) = in_flight.iter().find(|(k, _)| *k == key) {
            return Joined::Follower(Wait(flight.clone()));
        }
        let flight = Rc::new(Flight::default());
        in_flight.push((key.clone(), flight.clone()));
        Joined::Leader(Leader {
            reads: self,
            key: Some(key),
            flight,
        })
    }

    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.in_flight.borrow().len()
    }
}

/// The caller who sends. Dropped without `land` (its request was cancelled),
/// it releases the followers all the same.
pub struct Leader<'a> {
    reads: &'a SharedReads,
    key: Option<Key>,
    flight: Rc<Flight>,
}

impl Leader<'_> {
    /// Hands an OK body to the followers, or `None` to let each ask itself.
    pub fn land(mut self, answer: Option<Landed>) {
        self.release(answer.map_or(State::Failed, State::Landed));
    }

    fn release(&mut self, state: State) {
        let Some(key) = self.key.take() else { return };
        self.reads.in_flight.borrow_mut().retain(|(k, _)| *k != key);
        *self.flight.state.borrow_mut() = state;
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        self.release(State::Failed);
    }
}

/// A follower's view of the leader's flight.
pub struct Wait(Rc<Flight>);

impl Wait {
    /// `None` while in flight; then the leader's body, or `Some(None)` when
    /// it has none to give.
    pub fn landed(&self) -> Option<Option<Landed>> {
        match &*self.0.state.borrow() {
            State::InFlight => None,
            State::Landed(landed) => Some(Some(landed.clone())),
            State::Failed => Some(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leader(joined: Joined<'_>) -> Leader<'_> {
        match joined {
            Joined::Leader(l) => l,
            Joined::Follower(_) => panic!("expected to lead"),
        }
    }

    fn follower(joined: Joined<'_>) -> Wait {
        match joined {
            Joined::Follower(w) => w,
            Joined::Leader(_) => panic!("expected to follow"),
        }
    }

    #[test]
    fn followers_get_the_leaders_body_and_the_next_read_asks_again() {
        let reads = SharedReads::default();
        let lead = leader(reads.join(Command::GetCallInfo, b"{\"CallId\":\"a\"}"));
        let wait = follower(reads.join(Command::GetCallInfo, b"{\"CallId\":\"a\"}"));
        assert_eq!(wait.landed(), None, "still in flight");
        lead.land(Some((b"body".to_vec(), 2)));
        assert_eq!(wait.landed(), Some(Some((b"body".to_vec(), 2))));
        assert_eq!(reads.in_flight(), 0, "nothing is kept once landed");
        leader(reads.join(Command::GetCallInfo, b"{\"CallId\":\"a\"}"));
    }

    #[test]
    fn other_bodies_and_commands_do_not_share() {
        let reads = SharedReads::default();
        let _a = leader(reads.join(Command::GetCallInfo, b"{\"CallId\":\"a\"}"));
        let _b = leader(reads.join(Command::GetCallInfo, b"{\"CallId\":\"b\"}"));
        let _c = leader(reads.join(Command::GetRecordByCallId, b"{\"CallId\":\"a\"}"));
        assert_eq!(reads.in_flight(), 3);
    }

    #[test]
    fn a_failed_or_dropped_leader_releases_its_followers_empty_handed() {
        let reads = SharedReads::default();
        let lead = leader(reads.join(Command::GetCallback, b"{}"));
        let wait = follower(reads.join(Command::GetCallback, b"{}"));
        lead.land(None);
        assert_eq!(wait.landed(), Some(None));

        let lead = leader(reads.join(Command::GetCallback, b"{}"));
        let wait = follower(reads.join(Command::GetCallback, b"{}"));
        drop(lead);
        assert_eq!(wait.landed(), Some(None));
        assert_eq!(reads.in_flight(), 0);
    }
}
