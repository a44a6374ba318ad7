// ZKUtil's subtree walks, as zkCli's ls -R, setAcl -R, deleteall and setquota use them.
import {KeeperError, type ZkClient} from '../client.js'
import {validatePath} from '../codec.js'
import {javaCompare} from './format.js'

/** ZKUtil.visitSubTreeDFS: the root, then each level's sorted children, depth first. */
export async function visitSubTreeDFS(zk: ZkClient, path: string, watch: boolean, visit: (p: string) => void, act?: (p: string) => Promise<void>): Promise<void> {
  await zk.getData(path, watch)
  visit(path)
  if (act) await act(path)
  const helper = async (p: string): Promise<void> => {
    let children: string[]
    try {
      children = (await zk.getChildren(p, watch)).sort(javaCompare)
    } catch (e) {
      if (e instanceof KeeperError && e.code === -101) return
      throw e
    }
    const base = p.length === 1 ? p : p + '/'
    for (const c of children) {
      visit(base + c)
      if (act) await act(base + c)
    }
    for (const c of children) await helper(base + c)
  }
  await helper(path)
}

/** ZKUtil.deleteRecursive: the subtree breadth first, deleted leaves first (in multis of batch). */
export async function deleteRecursive(zk: ZkClient, root: string, batch: number): Promise<boolean> {
  validatePath(root)
  const tree = [root]
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i]
    for (const c of await zk.getChildren(node)) tree.push((node === '/' ? '' : node) + '/' + c)
  }
  if (batch <= 0) {
    for (let i = tree.length - 1; i >= 0; i--) await zk.delete(tree[i], -1)
    return true
  }
  let ok = true
  let ops: Array<{path: string; version: number}> = []
  for (let i = tree.length - 1; i >= 0; i--) {
    ops.push({path: tree[i], version: -1})
    if (ops.length === batch || i === 0) {
      if (!ok) break
      if (!await zk.multiDelete(ops)) ok = false
      ops = []
    }
  }
  return ok
}
