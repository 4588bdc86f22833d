//! Runs futures side by side and collects their outputs in order: the few
//! lines the live board's fan-in, its reconcile and the relay need, where
//! `futures-util`'s `join_all` would bring its task machinery into the bundle.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut busy = false;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => busy = true,
                }
            }
        }
        if busy {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_come_in_the_order_of_the_futures() {
        let futures = (0..5).map(|i| async move { i * 10 });
        assert_eq!(
            futures::executor::block_on(join_all(futures)),
            vec![0, 10, 20, 30, 40]
        );
    }
}
