import java.util.Random;
public class JavaRandomValues {
  static long mix(long x){ long z = x + 0x9E3779B97F4A7C15L; z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L; z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL; return z ^ (z >>> 31);}
  public static void main(String[] a){
    Random r = new Random(42);
    System.out.print("nextInt seed 42:"); for(int i=0;i<5;i++) System.out.print(" "+r.nextInt()); System.out.println();
    r = new Random(42);
    int[] bounds = {1,2,3,4,5,6,7,10,13,26,100,1000,10000, 1<<30, (1<<30)+1, Integer.MAX_VALUE};
    System.out.print("nextInt(bound) seed 42 bounds:"); for(int b: bounds) System.out.print(" "+r.nextInt(b)); System.out.println();
    r = new Random(-7);
    System.out.print("nextLong seed -7:"); for(int i=0;i<4;i++) System.out.print(" "+r.nextLong()); System.out.println();
    r = new Random(123456789L);
    System.out.print("nextDouble seed 123456789:"); for(int i=0;i<4;i++) System.out.print(" "+Double.doubleToRawLongBits(r.nextDouble())); System.out.println();
    System.out.println("mix: "+Long.toHexString(mix(0))+" "+Long.toHexString(mix(1))+" "+Long.toHexString(mix(1000)));
    System.out.println("Random(mix(1)).nextInt = "+new Random(mix(1)).nextInt());
    // rejection: find a seed where nextInt((1<<30)+1) rejects
    int bound = (1<<30)+1;
    for (long s=0;s<100;s++){ Random x=new Random(s); Random y=new Random(s); int bits = y.nextInt() >>> 1; int v = bits % bound; if (bits - v + (bound-1) < 0) { System.out.println("reject seed "+s+" -> "+x.nextInt(bound)); break; } }
  }
}
