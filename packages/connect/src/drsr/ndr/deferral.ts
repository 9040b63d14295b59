/**
 * NDR's deferral of embedded pointees (C706 14.3.12.3): the pointees of a
 * construct follow it, depth first. Writer and reader both run the
 * top-level construct, then each pointee that construct queued, on an
 * explicit stack (a directory's long linked lists never recurse).
 */
export type Task = () => void;

export abstract class DeferredPointees {
  /** The pointees queued by the task now running; null outside topLevel(). */
  protected deferred: Task[] | null = null;

  /** Queues a pointee of the construct now running; `where` names the misuse. */
  protected defer(task: Task, where: string): void {
    if (this.deferred === null) throw new Error(`an embedded pointer is ${where}`);
    this.deferred.push(task);
  }

  /** Runs one top-level construct (a call parameter), then its pointees, depth first. */
  topLevel(run: () => void): this {
    const outer = this.deferred;
    const stack: Task[] = [run];
    while (stack.length > 0) {
      const task = stack.pop() as Task;
      const children: Task[] = [];
      this.deferred = children;
      try {
        task();
      } finally {
        this.deferred = outer;
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i] as Task);
    }
    return this;
  }
}
