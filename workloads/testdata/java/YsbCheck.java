import java.util.*;
public class YsbCheck {
  static long mix(long x){ long z = x + 0x9E3779B97F4A7C15L; z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L; z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL; return z ^ (z >>> 31);}
  static String uuid(Random p){ long m=p.nextLong(), l=p.nextLong(); m=(m & ~0xF000L)|0x4000L; l=(l & 0x3FFFFFFFFFFFFFFFL)|0x8000000000000000L; return new UUID(m,l).toString(); }
  public static void main(String[] a){
    Random p=new Random(20150717); String[] c=new String[100], ad=new String[1000], u=new String[100], pg=new String[100];
    for(int i=0;i<100;i++)c[i]=uuid(p); for(int i=0;i<1000;i++)ad[i]=uuid(p); for(int i=0;i<100;i++)u[i]=uuid(p); for(int i=0;i<100;i++)pg[i]=uuid(p);
    String[] at={"banner","modal","sponsored-search","mail","mobile"}, et={"view","click","purchase"};
    for(long id=0;id<20;id++){ Random r=new Random(mix(id)); int us=r.nextInt(100), pa=r.nextInt(100), ai=r.nextInt(1000), t=r.nextInt(5), e=r.nextInt(3);
      System.out.println("{\"user_id\":\""+u[us]+"\",\"page_id\":\""+pg[pa]+"\",\"ad_id\":\""+ad[ai]+"\",\"ad_type\":\""+at[t]+"\",\"event_type\":\""+et[e]+"\",\"event_time\":\""+(1436918400000L+id*1000/10000000)+"\",\"ip_address\":\"1.2.3.4\"}"); }
  }
}
